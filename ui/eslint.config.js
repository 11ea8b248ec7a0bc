import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

// Who may import whom under src/: the shared code (src/shared/) imports nothing of an app; the
// HQ dashboard (src/hq/) imports only itself and the shared code; the POS (the rest of src/)
// does not import the dashboard. Imports are relative, so each depth of folder gets its rule.
const DEPTHS = [0, 1, 2, 3];
const within = (folder, depth) => `src/${folder}/${"*/".repeat(depth)}*.{ts,tsx}`;
const up = (levels) => "\\.\\./".repeat(levels);
const restrict = (files, regex, message) => ({
  files: [files],
  rules: { "no-restricted-imports": ["error", { patterns: [{ regex, message }] }] },
});
const boundaries = [
  ...DEPTHS.map((depth) =>
    restrict(within("shared", depth), `^${up(depth + 1)}`, "Shared code must not import an app's code."),
  ),
  ...DEPTHS.map((depth) =>
    restrict(
      within("hq", depth),
      `^${up(depth + 1)}(?!shared/)`,
      "The HQ dashboard imports only src/hq and src/shared.",
    ),
  ),
  restrict("src/*.{ts,tsx}", "^\\./hq/", "The POS must not import the HQ dashboard."),
  restrict("src/{components,screens}/**/*.{ts,tsx}", "^\\.\\./hq/", "The POS must not import the HQ dashboard."),
];

export default tseslint.config(
  { ignores: ["dist/", "dist-hq/", "node_modules/", "e2e/artifacts/"] },
  js.configs.recommended,
  {
    files: ["**/*.{ts,tsx}"],
    extends: [...tseslint.configs.strictTypeChecked, ...tseslint.configs.stylisticTypeChecked],
    languageOptions: {
      globals: globals.browser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      "@typescript-eslint/no-confusing-void-expression": ["error", { ignoreArrowShorthand: true }],
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { attributes: false } }],
      eqeqeq: "error",
      "no-console": "error",
    },
  },
  {
    files: ["**/*.{js,mjs}"],
    // e2e scripts are Node programs; functions they pass to page.evaluate run in the browser.
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: { eqeqeq: "error", "no-unused-vars": ["error", { argsIgnorePattern: "^_" }] },
  },
  ...boundaries,
);
