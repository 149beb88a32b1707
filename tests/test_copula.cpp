#include <catch2/catch.hpp>
#include <cmath>

#include "countysim/copula.hpp"
#include "countysim/distribution.hpp"
#include "countysim/rng.hpp"

using namespace countysim;

namespace {
double min_eigenvalue(const Eigen::MatrixXd& m) {
  return Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(m).eigenvalues().minCoeff();
}
}  // namespace

TEST_CASE("a positive definite correlation matrix is kept as it is", "[copula]") {
  Eigen::MatrixXd c(3, 3);
  c << 1, 0.5, -0.2, 0.5, 1, 0.3, -0.2, 0.3, 1;
  const auto r = nearest_correlation(c);
  CHECK_FALSE(r.repaired);
  CHECK(r.matrix == c);
  CHECK(r.largest_change == 0);
  CHECK(r.row == -1);
  const Eigen::MatrixXd l = cholesky_lower(c);
  CHECK((l * l.transpose() - c).cwiseAbs().maxCoeff() < 1e-14);
  CHECK(l(0, 1) == 0);  // lower triangular
  // Empty and 1x1 matrices are trivially valid.
  CHECK_FALSE(nearest_correlation(Eigen::MatrixXd(0, 0)).repaired);
  CHECK_FALSE(nearest_correlation(Eigen::MatrixXd::Identity(1, 1)).repaired);
}

TEST_CASE("a matrix that is not positive definite is repaired", "[copula]") {
  // rho12 = rho13 = 0.9 forces rho23 > 0.62; -0.9 is impossible.
  Eigen::MatrixXd c(3, 3);
  c << 1, 0.9, 0.9, 0.9, 1, -0.9, 0.9, -0.9, 1;
  REQUIRE(min_eigenvalue(c) < 0);
  CHECK_THROWS_WITH(cholesky_lower(c),
                    "correlation matrix is not positive definite; repair it with "
                    "nearest_correlation first");

  const auto r = nearest_correlation(c);
  CHECK(r.repaired);
  const Eigen::MatrixXd& m = r.matrix;
  CHECK((m - m.transpose()).cwiseAbs().maxCoeff() == 0);
  for (int i = 0; i < 3; ++i) CHECK(m(i, i) == 1);
  CHECK(min_eigenvalue(m) > 0);
  CHECK(Eigen::LLT<Eigen::MatrixXd>(m).info() == Eigen::Success);
  CHECK(m.cwiseAbs().maxCoeff() <= 1);

  // The reported change is the largest off-diagonal |repaired - requested|.
  double largest = 0;
  int row = -1, col = -1;
  for (int i = 0; i < 3; ++i) {
    for (int j = i + 1; j < 3; ++j) {
      if (std::abs(m(i, j) - c(i, j)) > largest) {
        largest = std::abs(m(i, j) - c(i, j));
        row = i;
        col = j;
      }
    }
  }
  CHECK(r.largest_change == largest);
  CHECK(r.row == row);
  CHECK(r.col == col);
  // The impossible coefficient moves most.
  CHECK(r.row == 1);
  CHECK(r.col == 2);

  const Eigen::MatrixXd l = cholesky_lower(m);
  CHECK((l * l.transpose() - m).cwiseAbs().maxCoeff() < 1e-12);
}

TEST_CASE("the Cholesky factor gives the bivariate normal orthant probability", "[copula]") {
  // P(Z1 > 0, Z2 > 0) = 1/4 + asin(rho) / (2 pi) for standard normals with correlation rho.
  constexpr int n = 200000;
  const std::uint64_t h1 = key_hash("copula.z1"), h2 = key_hash("copula.z2");
  for (const double rho : {-0.7, 0.3, 0.9}) {
    Eigen::MatrixXd c(2, 2);
    c << 1, rho, rho, 1;
    const Eigen::MatrixXd l = cholesky_lower(c);
    double both = 0, sum2 = 0;
    for (int d = 0; d < n; ++d) {
      const Eigen::Vector2d z(normal_quantile(stream_uniform(20220401, h1, d)),
                              normal_quantile(stream_uniform(20220401, h2, d)));
      const Eigen::Vector2d y = l * z;
      both += y(0) > 0 && y(1) > 0;
      sum2 += y(1) * y(1);
    }
    const double truth = 0.25 + std::asin(rho) / (2 * M_PI);
    const double se = std::sqrt(truth * (1 - truth) / n);
    INFO("rho " << rho << ": estimate " << both / n << ", truth " << truth << ", SE " << se);
    CHECK(std::abs(both / n - truth) < 4 * se);
    // The second score keeps unit variance: E[Y2^2] = 1, sd of Y2^2 is sqrt(2).
    CHECK(std::abs(sum2 / n - 1) < 4 * std::sqrt(2.0 / n));
  }
}
