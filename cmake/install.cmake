# Where `cmake --install` puts loom (DESTDIR is honoured by every rule), and
# the Debian package CPack builds from the same rules (`./dev.sh package`).
#
#   CNI plugins   ${LOOM_CNI_BINDIR}        /opt/cni/bin, where kubelet's
#                                            runtimes look by default;
#                                            /usr/lib/cni in the .deb
#   daemons       ${CMAKE_INSTALL_SBINDIR}  loomd, loom-policyd
#   tools         ${CMAKE_INSTALL_BINDIR}   loomctl, loom-bpf, loom-sim, loom-probe
#   units         ${LOOM_SYSTEMD_UNITDIR}   systemd's own (pkg-config), else
#                                            lib/systemd/system under the prefix
#   examples      ${CMAKE_INSTALL_DOCDIR}   share/doc/loom: configs, the
#                                            Kubernetes manifests
#
# Included last from CMakeLists.txt: every target exists by then.
include(GNUInstallDirs)

if(NOT LOOM_VERSION)
  set(LOOM_VERSION 0.1.0)
endif()

set(LOOM_CNI_BINDIR "/opt/cni/bin" CACHE PATH
    "Where the CNI plugins go: the runtime's CNI bin dir (absolute, or relative to the prefix)")
pkg_get_variable(LOOM_SYSTEMD_PC_UNITDIR systemd systemdsystemunitdir)
if(LOOM_SYSTEMD_PC_UNITDIR)
  set(LOOM_SYSTEMD_UNITDIR_DEFAULT ${LOOM_SYSTEMD_PC_UNITDIR})
else()
  set(LOOM_SYSTEMD_UNITDIR_DEFAULT lib/systemd/system)
endif()
set(LOOM_SYSTEMD_UNITDIR ${LOOM_SYSTEMD_UNITDIR_DEFAULT} CACHE PATH
    "Where the systemd units go (absolute, or relative to the prefix)")

set(LOOM_INSTALL_PLUGINS loom-bridge loom-vxlan loom-bgp loom-ipam)
set(LOOM_INSTALL_DAEMONS loomd loom-policyd)
set(LOOM_INSTALL_TOOLS loomctl loom-bpf loom-sim loom-probe)
foreach(t IN LISTS LOOM_INSTALL_PLUGINS LOOM_INSTALL_DAEMONS LOOM_INSTALL_TOOLS)
  if(NOT TARGET ${t})
    message(FATAL_ERROR "install: target ${t} is missing")
  endif()
endforeach()
# What `cmake --install` needs built (./dev.sh package builds only this,
# with CMAKE_SKIP_INSTALL_ALL_DEPENDENCY, not the tests and benchmarks).
add_custom_target(loom_installables DEPENDS
  ${LOOM_INSTALL_PLUGINS} ${LOOM_INSTALL_DAEMONS} ${LOOM_INSTALL_TOOLS})
install(TARGETS ${LOOM_INSTALL_PLUGINS} RUNTIME DESTINATION ${LOOM_CNI_BINDIR})
install(TARGETS ${LOOM_INSTALL_DAEMONS} RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(TARGETS ${LOOM_INSTALL_TOOLS} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The units name the daemons by their installed path: made at install
# time, so `cmake --install --prefix P` and CPack's /usr both come out right.
if(IS_ABSOLUTE ${CMAKE_INSTALL_SBINDIR})
  set(LOOM_UNIT_SBINDIR ${CMAKE_INSTALL_SBINDIR})
else()
  set(LOOM_UNIT_SBINDIR "\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_SBINDIR}")
endif()
if(IS_ABSOLUTE ${CMAKE_INSTALL_DOCDIR})
  set(LOOM_UNIT_DOCDIR ${CMAKE_INSTALL_DOCDIR})
else()
  set(LOOM_UNIT_DOCDIR "\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DOCDIR}")
endif()
foreach(unit loomd.service loom-policyd.service)
  install(CODE "
    set(LOOM_SBINDIR \"${LOOM_UNIT_SBINDIR}\")
    set(LOOM_DOCDIR \"${LOOM_UNIT_DOCDIR}\")
    configure_file(\"${CMAKE_SOURCE_DIR}/conf/systemd/${unit}.in\"
                   \"${CMAKE_BINARY_DIR}/systemd/${unit}\" @ONLY)")
  install(FILES ${CMAKE_BINARY_DIR}/systemd/${unit} DESTINATION ${LOOM_SYSTEMD_UNITDIR})
endforeach()

install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${CMAKE_SOURCE_DIR}/conf/ipam-dualstack.json
              ${CMAKE_SOURCE_DIR}/conf/systemd/loom.default
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/conf/kubernetes/
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/kubernetes FILES_MATCHING PATTERN "*.yaml")

# ---- the Debian package (cpack -G DEB, run by `./dev.sh package`) ----
# Built with CMAKE_INSTALL_PREFIX=/usr and LOOM_CNI_BINDIR=/usr/lib/cni:
# Debian's containernetworking-plugins, podman and CRI-O look there.
set(CPACK_GENERATOR DEB)
# Install with DESTDIR=<staging> and the real prefix, so the units name
# /usr/sbin/loomd, not the staging dir.
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGE_NAME loom)
set(CPACK_PACKAGE_VERSION ${LOOM_VERSION})
set(CPACK_PACKAGE_VENDOR "loom")
set(CPACK_PACKAGE_CONTACT "loom maintainers <maintainers@loom.example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "CNI network plugins, node agent and NetworkPolicy daemon")
# One string: a CMake list would eat the semicolons.
set(CPACK_PACKAGE_DESCRIPTION "loom is a CNI plugin suite written in C: loom-bridge and loom-ipam are
config-compatible replacements for the reference bridge and host-local
plugins; loom-vxlan with the loomd node agent builds a flannel-style VXLAN
overlay; loom-bgp is a Calico-style routed mode announced by BIRD;
loom-policyd enforces Kubernetes NetworkPolicy with nftables; every pod's
veth can carry an eBPF anti-spoofing program.")
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://loom.example.org/")
# dpkg-shlibdeps finds the libraries (libjansson4, libnl-3-200,
# libnl-route-3-200, libbpf1, libcurl4, libyaml-0-2, libsystemd0 ...);
# libnftables is dlopen()ed and loom-sim runs `ip`: those are named here.
# BIRD is only needed in bgp mode, the reference plugins for portmap.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libnftables1, iproute2")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "bird2, nftables, containernetworking-plugins")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "etcd-server")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Debian wants /usr/share/doc/<package>/copyright and a compressed
# changelog.Debian (installed by `cmake --install` too: they are the
# license and history of what was installed).
set(LOOM_DEB_DOC ${CMAKE_BINARY_DIR}/debian-doc)
file(MAKE_DIRECTORY ${LOOM_DEB_DOC})
configure_file(${CMAKE_SOURCE_DIR}/cmake/debian/copyright ${LOOM_DEB_DOC}/copyright COPYONLY)
configure_file(${CMAKE_SOURCE_DIR}/cmake/debian/changelog.in ${LOOM_DEB_DOC}/changelog.Debian @ONLY)
add_custom_command(OUTPUT ${LOOM_DEB_DOC}/changelog.Debian.gz
  COMMAND gzip -9nc ${LOOM_DEB_DOC}/changelog.Debian > ${LOOM_DEB_DOC}/changelog.Debian.gz
  DEPENDS ${LOOM_DEB_DOC}/changelog.Debian VERBATIM)
add_custom_target(loom_deb_doc ALL DEPENDS ${LOOM_DEB_DOC}/changelog.Debian.gz)
add_dependencies(loom_installables loom_deb_doc)
install(FILES ${LOOM_DEB_DOC}/copyright ${LOOM_DEB_DOC}/changelog.Debian.gz
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
include(CPack)
