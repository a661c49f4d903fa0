# SPDX-License-Identifier: Apache-2.0
# Install rules: headers, static libraries, the CMake package (find_package(smpdfu)
# with smpdfu::core, ::client, ::server, ::posix) and pkg-config files, in the
# GNU places (GNUInstallDirs). Included from the top CMakeLists.txt.
include(CMakePackageConfigHelpers)

set(SMPDFU_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/smpdfu)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/smpdfu DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
install(TARGETS ${smpdfu_libs} EXPORT smpdfuTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT smpdfuTargets NAMESPACE smpdfu:: DESTINATION ${SMPDFU_CMAKE_DIR})

# What the package config must find again for smpdfu::posix's interface.
set(SMPDFU_PKG_POSIX ${SMPDFU_POSIX})
set(SMPDFU_PKG_CURL ${CURL_FOUND})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/smpdfuConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/smpdfuConfig.cmake
                              INSTALL_DESTINATION ${SMPDFU_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/smpdfuConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/smpdfuConfig.cmake ${PROJECT_BINARY_DIR}/smpdfuConfigVersion.cmake
        DESTINATION ${SMPDFU_CMAKE_DIR})

# pkg-config: smpdfu-core (the portable libraries, no dependencies) and
# smpdfu (everything, with the POSIX port's system libraries).
# Relocatable: the prefix is found from where the .pc file is, so an install
# with `cmake --install --prefix` elsewhere (or DESTDIR) stays usable.
file(RELATIVE_PATH SMPDFU_PC_UP /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
string(REGEX REPLACE "/$" "" SMPDFU_PC_UP "${SMPDFU_PC_UP}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/smpdfu-core.pc.in ${PROJECT_BINARY_DIR}/smpdfu-core.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/smpdfu-core.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
if(SMPDFU_POSIX)
  set(SMPDFU_PC_DEPS ${smpdfu_pc_deps})
  configure_file(${PROJECT_SOURCE_DIR}/cmake/smpdfu.pc.in ${PROJECT_BINARY_DIR}/smpdfu.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/smpdfu.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endif()
