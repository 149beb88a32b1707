#include "countysim/copula.hpp"

#include <cmath>
#include <stdexcept>

namespace countysim {

namespace {
constexpr double kMinEigenvalue = 1e-10;   // below this a matrix counts as singular
constexpr double kEigenvalueFloor = 1e-6;  // what clipping raises eigenvalues to

bool positive_definite(const Eigen::MatrixXd& c) {
  if (c.rows() == 0) return true;
  if (Eigen::LLT<Eigen::MatrixXd>(c).info() != Eigen::Success) return false;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(c, Eigen::EigenvaluesOnly);
  return eig.info() == Eigen::Success && eig.eigenvalues().minCoeff() >= kMinEigenvalue;
}
}  // namespace

CorrelationRepair nearest_correlation(const Eigen::MatrixXd& c) {
  CorrelationRepair out;
  out.matrix = c;
  if (positive_definite(c)) return out;

  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(c);
  Eigen::VectorXd lambda = eig.eigenvalues().cwiseMax(kEigenvalueFloor);
  Eigen::MatrixXd a = eig.eigenvectors() * lambda.asDiagonal() * eig.eigenvectors().transpose();
  // Rescale to a unit diagonal: D^-1/2 A D^-1/2 is congruent to A, so stays
  // positive definite.
  const Eigen::VectorXd inv_sqrt = a.diagonal().cwiseSqrt().cwiseInverse();
  a = inv_sqrt.asDiagonal() * a * inv_sqrt.asDiagonal();
  a = 0.5 * (a + a.transpose());
  a.diagonal().setOnes();

  out.matrix = a;
  out.repaired = true;
  for (Eigen::Index i = 0; i < a.rows(); ++i) {
    for (Eigen::Index j = i + 1; j < a.cols(); ++j) {
      const double change = std::abs(a(i, j) - c(i, j));
      if (change > out.largest_change || out.row < 0) {
        out.largest_change = change;
        out.row = static_cast<int>(i);
        out.col = static_cast<int>(j);
      }
    }
  }
  return out;
}

Eigen::MatrixXd cholesky_lower(const Eigen::MatrixXd& c) {
  Eigen::LLT<Eigen::MatrixXd> llt(c);
  if (llt.info() != Eigen::Success) {
    throw std::invalid_argument(
        "correlation matrix is not positive definite; repair it with nearest_correlation first");
  }
  return llt.matrixL();
}

}  // namespace countysim
