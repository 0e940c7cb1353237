// Running independent tasks on a few threads (the fit's starts, Fitter::Fit).
#pragma once

#include <cstddef>
#include <functional>

namespace smplify {

// Runs task(0) .. task(n − 1) on up to `workers` threads of execution, the calling thread
// included, taking the tasks in index order. An exception ends its task only: it is kept, no
// further task is started, and once every thread has been joined the exception of the
// lowest-index failed task is rethrown (the one a serial loop would have thrown). If a thread
// cannot be created, the threads that exist (at least the calling one) run the rest.
void RunTasks(size_t n, size_t workers, const std::function<void(size_t)>& task);

}  // namespace smplify
