#pragma once
// One entry per experiment, each defined in the file that runs it; experiments() lists them.
#include "dlfs/apps/experiments/common.hpp"

namespace dlfs::app::experiment {

Experiment optimizer_paths_experiment();        // experiment_optimizers.cpp
Experiment optimizer_compare_experiment();      // experiment_optimizers.cpp
Experiment weight_init_experiment();            // experiment_weight_init.cpp
Experiment batch_norm_experiment();             // experiment_regularization.cpp
Experiment overfit_experiment();                // experiment_regularization.cpp
Experiment hyperparameter_search_experiment();  // experiment_hyperparameter.cpp
Experiment filters_experiment();                // experiment_convnet.cpp
Experiment misclassified_experiment();          // experiment_convnet.cpp
Experiment gradcheck_experiment();              // experiment_gradcheck.cpp
Experiment device_agreement_experiment();       // experiment_device_agreement.cpp

}  // namespace dlfs::app::experiment
