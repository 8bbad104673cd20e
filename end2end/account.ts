// The account every test signs in with (tests/fixtures.ts), made by the web server command
// (playwright.config.ts) before each Depot starts.
export const E2E_USER = "e2e-admin";
export const E2E_PASSWORD = "e2e-admin-password";
