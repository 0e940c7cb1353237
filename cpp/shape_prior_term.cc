#include "shape_prior_term.h"

#include <Eigen/Core>

namespace smplify {

bool ShapePriorCost::Evaluate(double const* const* parameters, double* residuals,
                              double** jacobians) const {
  const int n = num_residuals();
  Eigen::Map<Eigen::VectorXd>(residuals, n) =
      weight_ * Eigen::Map<const Eigen::VectorXd>(parameters[0], n);
  if (jacobians != nullptr && jacobians[0] != nullptr) {
    Eigen::Map<Eigen::MatrixXd>(jacobians[0], n, n) = weight_ * Eigen::MatrixXd::Identity(n, n);
  }
  return true;
}

}  // namespace smplify
