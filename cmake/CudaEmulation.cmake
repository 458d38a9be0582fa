# The host emulation of CUDA (tests/cuda_emulation): the real kernels of
# kernels/cuda/*.cu, compiled as C++ and run on CPU threads. Two users:
#   - the kernel tests (tests/CMakeLists.txt, ctest label `emulation`), in
#     every configuration;
#   - the emulated-device build (-DSCEALD_CUDA_EMULATION=ON), in which the
#     engine's whole CUDA backend runs on the emulation, with stand-ins for
#     the CUDA runtime, cuBLAS and cuDNN (ctest label `emulated_gpu`).

set(SCEALD_EMULATION_DIR ${PROJECT_SOURCE_DIR}/tests/cuda_emulation)

# The grid runner and the stand-in CUDA runtime. Its headers (cuda_runtime_api.h,
# and in the emulated-device build cublas_v2.h and cudnn.h) come first on the
# include path of everything that links it. Nothing here defines a symbol of the
# real CUDA libraries (all lives in namespace cuda_emulation), so a CUDA build
# links it beside them.
if(NOT TARGET sceald_cuda_emulation_runtime)
  add_library(sceald_cuda_emulation_runtime STATIC
    ${SCEALD_EMULATION_DIR}/grid_runner.cpp
    ${SCEALD_EMULATION_DIR}/fiber_scheduler.cpp
    ${SCEALD_EMULATION_DIR}/emulated_runtime.cpp)
  target_include_directories(sceald_cuda_emulation_runtime BEFORE PUBLIC ${SCEALD_EMULATION_DIR})
  target_link_libraries(sceald_cuda_emulation_runtime PUBLIC Threads::Threads)
  target_compile_options(sceald_cuda_emulation_runtime PRIVATE ${SCEALD_WARNINGS})
endif()

# Sets `out_var` to the emulation's copies of kernels/cuda/*.cu, written at
# configure time into the build tree with every launch
# `kernel<T><<<grid, block, shared, stream>>>(args)` rewritten into
# `::cuda_emulation::launch(kernel<T>, grid, block, shared, stream)(args)`;
# nothing else changes, and #line keeps diagnostics pointing at the .cu.
# Editing a .cu re-runs the configure step; a launch the pattern misses fails it.
function(sceald_emulated_cuda_sources out_var)
  set(emulated_dir ${PROJECT_BINARY_DIR}/cuda_emulation/kernels/cuda)
  file(GLOB cu_files CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/kernels/cuda/*.cu)
  set(sources)
  foreach(cu_file IN LISTS cu_files)
    set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${cu_file})
    get_filename_component(cu_name ${cu_file} NAME)
    file(READ ${cu_file} code)
    # The kernel's name with its template arguments (nested one level deep),
    # the white space before `<<<` (kept: line numbers stay those of the .cu),
    # the configuration.
    string(REGEX REPLACE "([A-Za-z_][A-Za-z0-9_:]*(<([^<>;]|<[^<>;]*>)*>)?)([ \t\r\n]*)<<<([^;]*)>>>"
                         "::cuda_emulation::launch(\\1,\\4 \\5)" code "${code}")
    if(code MATCHES "<<<")
      message(FATAL_ERROR "kernels/cuda/${cu_name}: a launch `<<<...>>>` the emulation's rewrite does not "
                          "recognise; extend the pattern in cmake/CudaEmulation.cmake")
    endif()
    set(emulated_file ${emulated_dir}/${cu_name}.cpp)
    string(CONCAT emulated_code "// Generated from kernels/cuda/${cu_name} by cmake/CudaEmulation.cmake for the host\n"
                                "// emulation (tests/cuda_emulation): only the <<<...>>> launches differ. Do not edit.\n"
                                "#include \"cuda_emulation.h\"\n"
                                "#line 1 \"${cu_file}\"\n"
                                "${code}")
    set(previous_code "")
    if(EXISTS ${emulated_file})
      file(READ ${emulated_file} previous_code)
    endif()
    if(NOT "${previous_code}" STREQUAL "${emulated_code}")  # unchanged files keep their time stamps: no rebuild
      file(WRITE ${emulated_file} "${emulated_code}")
    endif()
    list(APPEND sources ${emulated_file})
  endforeach()
  set(${out_var} ${sources} PARENT_SCOPE)
endfunction()
