# FindSPNG: libspng, the PNG decoder (spng.h, libspng).
#
# As in FindTurboJPEG.cmake, pkg-config only gives hints, so CMAKE_PREFIX_PATH
# is enough to find a copy unpacked outside /usr.
# Result: SPNG_FOUND, SPNG_INCLUDE_DIR, SPNG_LIBRARY and the imported target
# SPNG::SPNG.
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(PC_SPNG QUIET spng)
endif()

find_path(SPNG_INCLUDE_DIR spng.h HINTS ${PC_SPNG_INCLUDE_DIRS})
find_library(SPNG_LIBRARY NAMES spng HINTS ${PC_SPNG_LIBRARY_DIRS})

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(SPNG
  REQUIRED_VARS SPNG_LIBRARY SPNG_INCLUDE_DIR
  VERSION_VAR PC_SPNG_VERSION)

if(SPNG_FOUND AND NOT TARGET SPNG::SPNG)
  add_library(SPNG::SPNG UNKNOWN IMPORTED)
  set_target_properties(SPNG::SPNG PROPERTIES
    IMPORTED_LOCATION "${SPNG_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${SPNG_INCLUDE_DIR}")
endif()
mark_as_advanced(SPNG_INCLUDE_DIR SPNG_LIBRARY)
