# SPDX-License-Identifier: Apache-2.0
# cmake -DTOOL=path/to/smpdfu -DOUT=file.h2m -P man-commands.cmake
# Writes a help2man include file whose COMMANDS section is `smpdfu --help-all`
# (every command's own --help), so the man page holds what the program says.
execute_process(COMMAND ${TOOL} --help-all OUTPUT_VARIABLE text RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${TOOL} --help-all failed: ${rc}")
endif()
string(REPLACE "\\" "\\e" text "${text}")
string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
file(READ ${CMAKE_CURRENT_LIST_DIR}/../docs/smpdfu-man-extra.h2m extra)
file(WRITE ${OUT} "[COMMANDS]\n.nf\n${text}.fi\n\n${extra}")
