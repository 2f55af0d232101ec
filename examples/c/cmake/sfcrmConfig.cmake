# find_package(sfcrm CONFIG) support for a libsfcrm build tree: defines the imported target
# sfcrm::sfcrm (shared library + include directory). Inputs (cache variables):
#   SFCRM_ROOT    the repository root (include/sfcrm.h)
#   SFCRM_LIBDIR  the directory holding libsfcrm.so / libsfcrm.a (default: ${SFCRM_ROOT}/target/debug)
#   SFCRM_STATIC  ON to link libsfcrm.a instead (adds the Rust runtime's system libraries)
set(SFCRM_ROOT "${CMAKE_CURRENT_LIST_DIR}/../../.." CACHE PATH "sfcrm repository root")
set(SFCRM_LIBDIR "${SFCRM_ROOT}/target/debug" CACHE PATH "directory of libsfcrm.so / libsfcrm.a")
option(SFCRM_STATIC "link libsfcrm.a" OFF)

if(NOT TARGET sfcrm::sfcrm)
  find_package(Threads REQUIRED)
  if(SFCRM_STATIC)
    add_library(sfcrm::sfcrm STATIC IMPORTED)
    set_target_properties(sfcrm::sfcrm PROPERTIES
      IMPORTED_LOCATION "${SFCRM_LIBDIR}/libsfcrm.a"
      # from `cargo rustc -p sfcrm-ffi --crate-type staticlib -- --print native-static-libs`
      INTERFACE_LINK_LIBRARIES "Threads::Threads;gcc_s;util;rt;m;dl")
  else()
    add_library(sfcrm::sfcrm SHARED IMPORTED)
    set_target_properties(sfcrm::sfcrm PROPERTIES
      IMPORTED_LOCATION "${SFCRM_LIBDIR}/libsfcrm.so"
      IMPORTED_NO_SONAME TRUE
      INTERFACE_LINK_LIBRARIES "Threads::Threads")
  endif()
  set_target_properties(sfcrm::sfcrm PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${SFCRM_ROOT}/include")
  if(NOT EXISTS "${SFCRM_ROOT}/include/sfcrm.h")
    message(FATAL_ERROR "sfcrm.h not found under ${SFCRM_ROOT}/include")
  endif()
endif()
set(sfcrm_FOUND TRUE)
