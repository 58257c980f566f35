/** The redirect URI the CLI uses unless AIRTABLE_REDIRECT_URI says otherwise; register exactly this. */
export { DEFAULT_REDIRECT_URI as DEFAULT_CLI_REDIRECT_URI } from "../airtable/endpoints.js";
