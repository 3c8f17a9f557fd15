#include "app/version.h"

#include "heed/ops/context.h"

#ifndef HEED_VERSION
#error "HEED_VERSION is set by app/CMakeLists.txt"
#endif
#ifndef HEED_BUILD_TYPE
#error "HEED_BUILD_TYPE is set by app/CMakeLists.txt"
#endif

namespace heed::app {

std::string version_text() {
  const std::string build_type = HEED_BUILD_TYPE;
  return std::string("heed ") + HEED_VERSION + "\n" +
         "build type: " + (build_type.empty() ? "none (no CMAKE_BUILD_TYPE)" : build_type) + "\n" +
         "oneDNN: " + ops::onednn_version() + "\n" +
         "CPU ISA (oneDNN dispatch): " + ops::cpu_isa() + "\n" +
         "physical cores: " + std::to_string(ops::physical_cores()) + "\n";
}

} // namespace heed::app
