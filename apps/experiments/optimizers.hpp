#pragma once
// The book's section 6.1 experiments: the four optimizers on f(x, y) = x^2 / 20 + y^2, and on a
// 5-layer MLP with real images.
#include <string>
#include <utility>
#include <vector>

namespace dlfs::app::experiment {

// f(x, y) = x^2 / 20 + y^2, the book's elongated bowl: gentle along x, steep along y.
double bowl(double x, double y);

// The points an optimizer visits minimising bowl() from `start`: start and then one point per
// step (steps + 1 in all). `optimizer` is an optim::make_optimizer name; the rest of its
// hyperparameters are the book's defaults. Runs the real optimizer on a float64 [2] parameter.
std::vector<std::pair<double, double>> optimizer_path(const std::string& optimizer, double lr,
                                                      std::pair<double, double> start, int steps);

}  // namespace dlfs::app::experiment
