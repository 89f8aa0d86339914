#include <gtest/gtest.h>

#include <map>

#include "dlfs/comm/launch.hpp"
#include "dlfs/runtime/error.hpp"

namespace dlfs::comm {
namespace {

EnvironmentReader environment(std::map<std::string, std::string> values) {
  return [values](const char* name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

TEST(Launch, NoLauncherIsOneProcess) {
  const LaunchInfo info = detect_launch(environment({}));
  EXPECT_FALSE(info.launched);
  EXPECT_EQ(info.rank, 0);
  EXPECT_EQ(info.world_size, 1);
  EXPECT_EQ(info.launcher, "");
}

TEST(Launch, ReadsOpenMpisMpirun) {
  const LaunchInfo info = detect_launch(environment({{"OMPI_COMM_WORLD_RANK", "3"},
                                                     {"OMPI_COMM_WORLD_SIZE", "8"},
                                                     {"OMPI_COMM_WORLD_LOCAL_RANK", "1"},
                                                     {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"}}));
  EXPECT_TRUE(info.launched);
  EXPECT_EQ(info.launcher, "mpirun");
  EXPECT_EQ(info.rank, 3);
  EXPECT_EQ(info.world_size, 8);
  EXPECT_EQ(info.local_rank, 1);
  EXPECT_EQ(info.local_size, 2);
}

TEST(Launch, ReadsSlurmsSrunOnlyInsideAStep) {
  const std::map<std::string, std::string> job{
      {"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "16"}, {"SLURM_LOCALID", "1"}};
  EXPECT_FALSE(detect_launch(environment(job)).launched);  // the batch script itself
  auto step = job;
  step["SLURM_STEP_ID"] = "0";
  const LaunchInfo info = detect_launch(environment(step));
  EXPECT_TRUE(info.launched);
  EXPECT_EQ(info.launcher, "srun");
  EXPECT_EQ(info.rank, 5);
  EXPECT_EQ(info.world_size, 16);
  EXPECT_EQ(info.local_rank, 1);
}

TEST(Launch, TorchrunStyleVariablesAloneAreNotALauncher) {
  const LaunchInfo info =
      detect_launch(environment({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "1"}}));
  EXPECT_FALSE(info.launched);
  EXPECT_EQ(info.launcher, "environment");
  EXPECT_EQ(info.world_size, 2);
  EXPECT_EQ(info.local_rank, 1);
}

TEST(Launch, LocalRankVariableOverridesTheLaunchers) {
  const LaunchInfo info = detect_launch(environment({{"OMPI_COMM_WORLD_RANK", "0"},
                                                     {"OMPI_COMM_WORLD_SIZE", "2"},
                                                     {"OMPI_COMM_WORLD_LOCAL_RANK", "0"},
                                                     {"LOCAL_RANK", "1"}}));
  EXPECT_EQ(info.local_rank, 1);
}

TEST(Launch, MalformedOrContradictoryValuesNameTheVariable) {
  try {
    detect_launch(environment({{"OMPI_COMM_WORLD_RANK", "two"}, {"OMPI_COMM_WORLD_SIZE", "4"}}));
    FAIL() << "a rank that is not a number passed";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("OMPI_COMM_WORLD_RANK='two'"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(detect_launch(environment({{"PMI_RANK", "4"}, {"PMI_SIZE", "4"}})), InputError);
  EXPECT_THROW(detect_launch(environment({{"RANK", "0"}, {"WORLD_SIZE", "0"}})), InputError);
}

TEST(Launch, EnvironmentMustAgreeWithMpi) {
  LaunchInfo mpi;
  mpi.launched = true, mpi.rank = 1, mpi.world_size = 2;
  EXPECT_NO_THROW(check_environment_agrees(mpi, environment({})));
  EXPECT_NO_THROW(check_environment_agrees(mpi, environment({{"RANK", "1"}, {"WORLD_SIZE", "2"}})));
  try {
    check_environment_agrees(mpi, environment({{"WORLD_SIZE", "4"}}));
    FAIL() << "a WORLD_SIZE that contradicts MPI passed";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("WORLD_SIZE=4 is set, but MPI started 2"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(check_environment_agrees(mpi, environment({{"RANK", "0"}})), InputError);
}

}  // namespace
}  // namespace dlfs::comm
