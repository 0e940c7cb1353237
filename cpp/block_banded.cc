#include "block_banded.h"

#include <algorithm>

#include <Eigen/Cholesky>

#if defined(__SSE__) || defined(_M_X64)
#include <xmmintrin.h>
#endif

namespace smplify {

BlockBandedSystem::BlockBandedSystem(int num_frames, int frame_size, int border_size)
    : num_frames_(num_frames), m_(frame_size), n_b_(border_size),
      band_(static_cast<size_t>(num_frames) * (kBand + 1),
            Eigen::MatrixXd::Zero(frame_size, frame_size)),
      border_(num_frames, Eigen::MatrixXd::Zero(border_size, frame_size)),
      corner_(Eigen::MatrixXd::Zero(border_size, border_size)),
      g_(Eigen::VectorXd::Zero(num_frames * frame_size + border_size)) {}

void BlockBandedSystem::SetZero() {
  if (zero_) return;
  zero_ = true;
  for (auto& b : band_) b.setZero();
  for (auto& b : border_) b.setZero();
  corner_.setZero();
  g_.setZero();
}

void BlockBandedSystem::AddBlock(int frame_i, int offset_i, int frame_j, int offset_j,
                                 const Eigen::Ref<const Eigen::MatrixXd>& block) {
  zero_ = false;
  const auto rows = block.rows(), cols = block.cols();
  if (frame_i < 0 && frame_j < 0) {
    corner_.block(offset_i, offset_j, rows, cols) += block;
  } else if (frame_i < 0) {
    border_[frame_j].block(offset_i, offset_j, rows, cols) += block;
  } else {
    Lower(frame_j, frame_i - frame_j).block(offset_i, offset_j, rows, cols) += block;
  }
}

namespace {

// For its scope, subnormal results are flushed to zero and subnormal inputs read as zero
// (x86's MXCSR FTZ and DAZ bits; the caller's mode is restored after). Where the normal
// equations hold subnormal entries, the factorisation's products of them run on the CPU's
// slow path: one of bench_video's clips (martial, seed 303) spent ~120 ms a factorisation
// instead of ~20 before the pose prior's tiny factor entries were dropped at load
// (smplify.prior.drop_tiny_entries, the source found); kept for any other term's. Only
// values below 2.2e-308 change (to zero). A no-op off x86.
class FlushSubnormals {
 public:
#if defined(__SSE__) || defined(_M_X64)
  FlushSubnormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | kFlushZero | kDenormalsZero); }
  ~FlushSubnormals() { _mm_setcsr(saved_); }

 private:
  static constexpr unsigned kFlushZero = 0x8000, kDenormalsZero = 0x0040;  // MXCSR bits
  unsigned saved_;
#endif
  FlushSubnormals(const FlushSubnormals&) = delete;
  FlushSubnormals& operator=(const FlushSubnormals&) = delete;
};

// The damped, symmetric diagonal block into `a`: lower triangle of `lower` mirrored,
// diagonal scaled.
void Damped(const Eigen::MatrixXd& lower, double lambda, const bool* fixed, Eigen::MatrixXd* a) {
  *a = lower.selfadjointView<Eigen::Lower>();
  for (Eigen::Index i = 0; i < a->rows(); ++i) {
    if (fixed[i]) {
      a->row(i).setZero();
      a->col(i).setZero();
      (*a)(i, i) = 1.0;
    } else {
      (*a)(i, i) += lambda * std::clamp(lower(i, i), 1e-6, 1e32);
    }
  }
}

void ZeroFixed(const bool* fixed_rows, const bool* fixed_cols, Eigen::MatrixXd* block) {
  for (Eigen::Index i = 0; i < block->rows(); ++i) {
    if (fixed_rows != nullptr && fixed_rows[i]) block->row(i).setZero();
  }
  for (Eigen::Index j = 0; j < block->cols(); ++j) {
    if (fixed_cols[j]) block->col(j).setZero();
  }
}

}  // namespace

bool BlockBandedSystem::Solve(double lambda, const std::vector<int>& fixed_list,
                              Eigen::VectorXd* delta, Workspace* workspace) const {
  const FlushSubnormals flush;
  const int n_x = num_frames_ * m_;
  std::vector<char> fixed_mask(size(), 0);
  for (int i : fixed_list) fixed_mask[i] = 1;
  const bool* fixed = reinterpret_cast<const bool*>(fixed_mask.data());
  Workspace own;
  Workspace& work = workspace != nullptr ? *workspace : own;
  // Factor A: L_{t,t} L_{t,t}ᵀ = A_{t,t} − Σ_k L_{t,t−k} L_{t,t−k}ᵀ;
  // L_{t+k,t} = (A_{t+k,t} − Σ_{l>k} L_{t+k,t−l+k}… ) L_{t,t}⁻ᵀ, band kBand.
  std::vector<Eigen::MatrixXd>& L = work.lower;  // L(t + k, t) at t * (kBand + 1) + k, k ≥ 1
  std::vector<Eigen::LLT<Eigen::MatrixXd>>& diag = work.diagonal;
  L.resize(band_.size());
  diag.resize(num_frames_);
  auto at = [](int t, int k) { return t * (kBand + 1) + k; };
  Eigen::MatrixXd& a = work.damped;
  // F = L⁻¹ [C g_x] (C = H(frames, border) and g_x with the fixed rows and columns zero),
  // forward-substituted frame by frame as L's rows are factorised: the border's Schur
  // complement is D − WᵀW with W = L⁻¹ C, so A⁻¹ C (a back substitution of n_b columns)
  // is never formed; only δx's one column is substituted back.
  Eigen::MatrixXd& f = work.forward;
  f.resize(n_x, n_b_ + 1);
  for (int t = 0; t < num_frames_; ++t) {
    Damped(Lower(t, 0), lambda, fixed + t * m_, &a);
    // Only the lower triangle is updated (a symmetric rank-m update: half a product's
    // flops) and read (Eigen's LLT reads the lower triangle).
    for (int k = 1; k <= kBand && t - k >= 0; ++k) {
      a.selfadjointView<Eigen::Lower>().rankUpdate(L[at(t - k, k)], -1.0);
    }
    diag[t].compute(a);
    if (diag[t].info() != Eigen::Success) return false;
    auto y = f.middleRows(t * m_, m_);
    y.leftCols(n_b_) = border_[t].transpose();
    y.col(n_b_) = g_.segment(t * m_, m_);
    for (int i = 0; i < m_; ++i) {
      if (fixed[t * m_ + i]) y.row(i).setZero();
    }
    for (int j = 0; j < n_b_; ++j) {
      if (fixed[n_x + j]) y.col(j).setZero();
    }
    for (int k = 1; k <= kBand && t - k >= 0; ++k) {
      y.noalias() -= L[at(t - k, k)] * f.middleRows((t - k) * m_, m_);
    }
    diag[t].matrixL().solveInPlace(y);
    for (int k = 1; k <= kBand && t + k < num_frames_; ++k) {
      Eigen::MatrixXd& b = L[at(t, k)];
      b = Lower(t, k);
      ZeroFixed(fixed + (t + k) * m_, fixed + t * m_, &b);
      // minus Σ over the frames s < t both rows t + k and t reach: L(t+k, s) L(t, s)ᵀ
      for (int l = k + 1; l <= kBand && t + k - l >= 0 && t - (l - k) >= 0; ++l) {
        const int s = t + k - l;  // L(t + k, s) has offset l; L(t, s) offset l − k
        b.noalias() -= L[at(s, l)] * L[at(s, l - k)].transpose();
      }
      // L(t+k, t) L(t, t)ᵀ = b, solved in place (no transposed copies).
      diag[t].matrixU().solveInPlace<Eigen::OnTheRight>(b);
    }
  }
  // x = v − W δb with v = L⁻¹ g_x, δb = S⁻¹ (g_b − Wᵀ v), S = D − WᵀW; then δx = L⁻ᵀ x.
  const auto w = f.leftCols(n_b_);
  Eigen::VectorXd x = f.col(n_b_);
  delta->resize(size());
  if (n_b_ > 0) {
    Eigen::MatrixXd s;
    Damped(corner_, lambda, fixed + n_x, &s);
    s.selfadjointView<Eigen::Lower>().rankUpdate(w.transpose(), -1.0);
    const Eigen::LLT<Eigen::MatrixXd> schur(s);
    if (schur.info() != Eigen::Success) return false;
    Eigen::VectorXd g_b = g_.tail(n_b_);
    for (int j = 0; j < n_b_; ++j) {
      if (fixed[n_x + j]) g_b(j) = 0.0;
    }
    const Eigen::VectorXd db = schur.solve(g_b - w.transpose() * x);
    x.noalias() -= w * db;
    delta->tail(n_b_) = db;
  }
  for (int t = num_frames_ - 1; t >= 0; --t) {
    auto xt = x.segment(t * m_, m_);
    for (int k = 1; k <= kBand && t + k < num_frames_; ++k) {
      xt.noalias() -= L[at(t, k)].transpose() * x.segment((t + k) * m_, m_);
    }
    diag[t].matrixU().solveInPlace(xt);
  }
  delta->head(n_x) = x;
  return delta->allFinite();
}

double BlockBandedSystem::Quadratic(const Eigen::VectorXd& delta) const {
  double q = 0.0;
  const int n_x = num_frames_ * m_;
  for (int t = 0; t < num_frames_; ++t) {
    const auto dt = delta.segment(t * m_, m_);
    q += dt.dot(Lower(t, 0).selfadjointView<Eigen::Lower>() * dt);
    for (int k = 1; k <= kBand && t + k < num_frames_; ++k) {
      q += 2.0 * delta.segment((t + k) * m_, m_).dot(Lower(t, k) * dt);
    }
    q += 2.0 * delta.tail(n_b_).dot(border_[t] * dt);
  }
  if (n_b_ > 0) q += delta.tail(n_b_).dot(corner_.selfadjointView<Eigen::Lower>() * delta.tail(n_b_));
  return q;
}

Eigen::MatrixXd BlockBandedSystem::Dense() const {
  const int n_x = num_frames_ * m_;
  Eigen::MatrixXd h = Eigen::MatrixXd::Zero(size(), size());
  for (int t = 0; t < num_frames_; ++t) {
    h.block(t * m_, t * m_, m_, m_) = Lower(t, 0).selfadjointView<Eigen::Lower>();
    for (int k = 1; k <= kBand && t + k < num_frames_; ++k) {
      h.block((t + k) * m_, t * m_, m_, m_) = Lower(t, k);
      h.block(t * m_, (t + k) * m_, m_, m_) = Lower(t, k).transpose();
    }
    h.block(n_x, t * m_, n_b_, m_) = border_[t];
    h.block(t * m_, n_x, m_, n_b_) = border_[t].transpose();
  }
  h.bottomRightCorner(n_b_, n_b_) = corner_.selfadjointView<Eigen::Lower>();
  return h;
}

}  // namespace smplify
