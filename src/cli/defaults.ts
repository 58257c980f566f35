/** The redirect URI the CLI uses unless AIRTABLE_REDIRECT_URI says otherwise; register exactly this. */
export const DEFAULT_CLI_REDIRECT_URI = "http://localhost:8085/callback";
