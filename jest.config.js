/** Jest: ts-jest compiles tests/ and solutions/ with the root tsconfig (TypeScript 5.0, as tslab). */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testPathIgnorePatterns: ["/node_modules/", "/fixtures/"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "<rootDir>/tsconfig.json", isolatedModules: true }] },
  testTimeout: 120000,
  maxWorkers: 2,
  reporters: ["default", "<rootDir>/tools/jest-summary.js"],
};
