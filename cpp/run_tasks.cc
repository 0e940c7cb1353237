// RunTasks: a fixed set of independent tasks over a few std::threads (see run_tasks.h).
#include "run_tasks.h"

#include <atomic>
#include <exception>
#include <thread>
#include <vector>

namespace smplify {

void RunTasks(size_t n, size_t workers, const std::function<void(size_t)>& task) {
  std::vector<std::exception_ptr> errors(n);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  const auto work = [&]() noexcept {
    while (!failed) {
      const size_t i = next++;
      if (i >= n) return;
      try {
        task(i);
      } catch (...) {
        errors[i] = std::current_exception();
        failed = true;
      }
    }
  };
  {
    // Joins every started thread however this block is left.
    struct JoinAll {
      std::vector<std::thread> threads;
      ~JoinAll() {
        for (std::thread& t : threads) {
          if (t.joinable()) t.join();
        }
      }
    } pool;
    for (size_t w = 1; w < workers; ++w) {
      try {
        pool.threads.emplace_back(work);
      } catch (...) {  // std::system_error (no thread), std::bad_alloc: fewer threads
        break;
      }
    }
    work();
  }
  for (const std::exception_ptr& error : errors) {
    if (error) std::rethrow_exception(error);
  }
}

}  // namespace smplify
