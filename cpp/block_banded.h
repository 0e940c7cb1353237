// The normal equations of a sequence fit, stored as they are shaped, and their solve:
//
//   [ A   C ] [δx]   [g_x]      A: block-banded, T × T blocks of m × m (frame t couples to
//   [ Cᵀ  D ] [δb] = [g_b]         t ± 1 and t ± 2: second differences), C: T blocks m × n_b,
//                                  D: n_b × n_b (the shared β)
//
// solved by a block-banded Cholesky factorisation A = L Lᵀ (L with blocks L_{t,t},
// L_{t+1,t}, L_{t+2,t}; O(T m³), no fill outside the band) and the Schur complement of the
// border, S = D − Cᵀ A⁻¹ C (n_b × n_b), so δb = S⁻¹ (g_b − Cᵀ A⁻¹ g_x),
// δx = A⁻¹ (g_x − C δb). With W = L⁻¹ C and v = L⁻¹ g_x (forward-substituted while L is
// factorised): S = D − WᵀW, δb = S⁻¹ (g_b − Wᵀ v), δx = L⁻ᵀ (v − W δb), one column
// substituted back (A⁻¹ C, n_b columns both ways, is never formed). The sequence fit
// (sequence_fitter.h) adds J_iᵀ J_j of every residual block into it; a general sparse
// Cholesky spends most of its time forming and ordering that product, which here is a sum
// into known places.
// Symbols: T frames, m parameters per frame, n_b shared parameters, λ Levenberg-Marquardt
// damping (the system solved is (H + λ diag(H)) δ = g, diag(H) clamped to [1e-6, 1e32]).
#pragma once

#include <vector>

#include <Eigen/Cholesky>
#include <Eigen/Core>

namespace smplify {

class BlockBandedSystem {
 public:
  static constexpr int kBand = 2;  // blocks below the diagonal

  BlockBandedSystem(int num_frames, int frame_size, int border_size);

  // Zero-fills H and g (nothing to do while nothing was added since the last fill: the
  // constructor's, or a SetZero's).
  void SetZero();
  // H(t_i rows, t_j cols) += block for |t_i − t_j| ≤ kBand; index −1: the border. Only the
  // lower triangle (t_i ≥ t_j, border rows last) is kept; add each pair once, i ≥ j. Of a
  // diagonal block (t_i = t_j) only the lower triangle is read: what is added above it is
  // ignored.
  void AddBlock(int frame_i, int offset_i, int frame_j, int offset_j,
                const Eigen::Ref<const Eigen::MatrixXd>& block);
  Eigen::VectorXd& gradient() {  // stacked: frames' (T · m), then the border
    zero_ = false;
    return g_;
  }
  const Eigen::VectorXd& gradient() const { return g_; }
  int size() const { return num_frames_ * m_ + n_b_; }

  // The factorisation's storage (L's blocks, the diagonal blocks' Cholesky factors), kept
  // by a caller that solves many times (Levenberg-Marquardt) so that each solve reuses it
  // instead of allocating (and the kernel zero-filling) T · 3 fresh m × m blocks.
  struct Workspace {
    std::vector<Eigen::MatrixXd> lower;  // L(t + k, t), k = 1..kBand, at t · (kBand + 1) + k
    std::vector<Eigen::LLT<Eigen::MatrixXd>> diagonal;  // L(t, t)
    Eigen::MatrixXd damped;  // the diagonal block being factorised
    Eigen::MatrixXd forward;  // L⁻¹ [C g_x]: the border's columns and the gradient's
  };

  // Solves (H + λ diag(H)) δ = g; false if the damped matrix is not positive definite.
  // Subnormal numbers count as zero in the solve (x86; block_banded.cc FlushSubnormals).
  // `fixed`: parameters (stacked index) held at their value (δ = 0). `workspace`: storage
  // to reuse (null: a fresh one); the result does not depend on it.
  bool Solve(double lambda, const std::vector<int>& fixed, Eigen::VectorXd* delta,
             Workspace* workspace = nullptr) const;
  // δᵀ H δ (undamped), for the predicted decrease of a step.
  double Quadratic(const Eigen::VectorXd& delta) const;
  // H as a dense symmetric matrix (size() × size()), to check the assembly against.
  Eigen::MatrixXd Dense() const;

 private:
  Eigen::MatrixXd& Lower(int t, int k) { return band_[t * (kBand + 1) + k]; }
  const Eigen::MatrixXd& Lower(int t, int k) const { return band_[t * (kBand + 1) + k]; }

  int num_frames_, m_, n_b_;
  std::vector<Eigen::MatrixXd> band_;  // H(t + k, t), k = 0..kBand (m × m)
  std::vector<Eigen::MatrixXd> border_;  // H(border, t) (n_b × m)
  Eigen::MatrixXd corner_;              // H(border, border) (n_b × n_b), lower triangle
  Eigen::VectorXd g_;
  bool zero_ = true;  // H and g all zero (nothing added since the last fill)
};

}  // namespace smplify
