# lib/daemon's parts that stand alone: notify (sd_notify, READY and
# WATCHDOG; libsystemd) for loomd and loom-policyd only, and httpd + metrics
# (the /healthz /readyz /metrics server and the Prometheus registry; libc
# only).  libsystemd never reaches a CNI plugin.
pkg_check_modules(LIBSYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
# loom_build_info{version} (serve.c): the package's version (install.cmake)
if(NOT LOOM_VERSION)
  set(LOOM_VERSION 0.1.0)
endif()
set_source_files_properties(${CMAKE_SOURCE_DIR}/lib/daemon/serve.c PROPERTIES
  COMPILE_DEFINITIONS "LOOM_VERSION_STRING=\"${LOOM_VERSION}\"")
if(TARGET loom_daemon)
  # lib/daemon is a layer of its own (its glob holds these files): it
  # carries libsystemd, and loom_notify and loom_httpd are names for it.
  target_link_libraries(loom_daemon PUBLIC PkgConfig::LIBSYSTEMD)
  add_library(loom_notify INTERFACE)
  target_link_libraries(loom_notify INTERFACE loom_daemon)
  add_library(loom_httpd INTERFACE)
  target_link_libraries(loom_httpd INTERFACE loom_daemon)
else()
  add_library(loom_notify STATIC ${CMAKE_SOURCE_DIR}/lib/daemon/notify.c)
  target_include_directories(loom_notify PUBLIC ${CMAKE_SOURCE_DIR}/lib)
  target_link_libraries(loom_notify PUBLIC PkgConfig::LIBSYSTEMD)
  add_library(loom_httpd STATIC ${CMAKE_SOURCE_DIR}/lib/daemon/httpd.c
                                ${CMAKE_SOURCE_DIR}/lib/daemon/metrics.c)
  target_include_directories(loom_httpd PUBLIC ${CMAKE_SOURCE_DIR}/lib)
endif()
target_link_libraries(loomd PRIVATE loom_notify)
if(TARGET loom-policyd)
  target_link_libraries(loom-policyd PRIVATE loom_notify)
endif()
foreach(t test_daemon_notify test_daemon_httpd test_daemon_metrics)
  if(TARGET ${t})
    target_link_libraries(${t} PRIVATE loom_notify loom_httpd)
  endif()
endforeach()
if(NOT LOOM_FUZZ)
  # a stand-in daemon serving the three endpoints, for test_metrics.sh
  add_executable(httpd_demo tests/daemon/httpd_demo.c)
  target_link_libraries(httpd_demo PRIVATE loom_httpd)
endif()
