// Gaussian copula support (model.md, "Correlation"): the requested matrix is
// repaired when it is not positive definite, and its Cholesky factor L turns
// independent normal scores z into correlated ones L z.
#pragma once
#include <Eigen/Dense>

namespace countysim {

struct CorrelationRepair {
  Eigen::MatrixXd matrix;     // the matrix to use: the input when it was valid
  bool repaired = false;      // true when the input was not positive definite
  double largest_change = 0;  // largest |repaired - requested| over the entries
  int row = -1, col = -1;     // where that change is (row < col); -1 when none
};

// The input when it is positive definite (Cholesky succeeds and the smallest
// eigenvalue is >= 1e-10); otherwise the eigenvalues are clipped to 1e-6,
// the matrix rebuilt and rescaled to a unit diagonal. Expects a symmetric
// matrix with a unit diagonal.
CorrelationRepair nearest_correlation(const Eigen::MatrixXd& c);

// Lower Cholesky factor L with L L^T = c. Throws std::invalid_argument when c
// is not positive definite (repair it first).
Eigen::MatrixXd cholesky_lower(const Eigen::MatrixXd& c);

}  // namespace countysim
