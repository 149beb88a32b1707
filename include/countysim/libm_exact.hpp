// exp, log and erfc that return exactly what glibc 2.36's libm returns on a
// CPU with FMA and AVX2 (its __exp_fma / __log_fma builds and fdlibm's erfc),
// on any CPU: the engine's numbers then no longer depend on which variant
// libm's dispatch picks. The array forms do eight (AVX-512) or four (AVX2 +
// FMA) elements at a time as simd_level() says, the same bits on every path.
#pragma once
#include <cstddef>

namespace countysim {

double exact_exp(double x);
double exact_log(double x);
double exact_erfc(double x);

// y[i] = exact_*(x[i]) for i in [0, n); y may be x.
void exact_exp(const double* x, double* y, std::size_t n);
void exact_log(const double* x, double* y, std::size_t n);
void exact_erfc(const double* x, double* y, std::size_t n);

// Test hooks: the scalar builds a CPU without FMA runs (std::fma for the
// fused operations), on any CPU.
double exact_exp_without_fma(double x);
double exact_log_without_fma(double x);
double exact_erfc_without_fma(double x);

// out[i] = normal_cdf(z[i]) (quantile_functions.hpp, whose array form this
// is), the same bits, with erfc and the correction's exp in the registers.
void exact_normal_cdf(const double* z, double* out, std::size_t n);

// z[i] = normal_quantile(u[i]) (quantile_functions.hpp) for u[i] in its
// tails (|u[i] - 1/2| > 0.425; the array form's tail lanes), the same bits,
// with exact_log's kernel in the registers. z may be u.
void exact_normal_tails(const double* u, double* z, std::size_t n);

}  // namespace countysim
