/**
 * Jest reporter that ends the run with one plain closing line CI can read:
 *   "jest: N passed, N failed, N skipped"
 */
class SummaryLineReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    process.stdout.write(`\njest: ${results.numPassedTests} passed, ${results.numFailedTests + (results.numRuntimeErrorTestSuites || 0)} failed, ${skipped} skipped\n`);
  }
}
module.exports = SummaryLineReporter;
