# Cross build for a Cortex-M with Debian's gcc-arm-none-eabi + newlib-nano.
#   portable libraries only:  -DSMPDFU_PORTABLE_ONLY=ON          (Cortex-M33)
#   firmware for a QEMU board: -DSMPDFU_FIRMWARE=ON -DSMPDFU_BOARD=mps2-an505|mps2-an385
# SMPDFU_CPU overrides the core (-mcpu); the board picks it otherwise.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
if(NOT SMPDFU_CPU)
  if(SMPDFU_BOARD STREQUAL "mps2-an385")
    set(SMPDFU_CPU cortex-m3)
  else()
    set(SMPDFU_CPU cortex-m33)
  endif()
endif()
set(SMPDFU_CPU ${SMPDFU_CPU} CACHE STRING "Cortex-M core for -mcpu")
set(CMAKE_C_FLAGS_INIT "-mcpu=${SMPDFU_CPU} -mthumb -mfloat-abi=soft -Os -ffunction-sections -fdata-sections --specs=nano.specs")
set(CMAKE_ASM_FLAGS_INIT "-mcpu=${SMPDFU_CPU} -mthumb")
