# Compiles a collector's device profiles into the binary: one NUL-terminated array per
# profiles/NAME.yaml and a table {name, text, length} sorted by name.
# Usage: cmake -DOUT=file.c -DFILES="a.yaml|b.yaml" -DDIR=collectors/snmp -DHEADER=snmp_map.h
#              -DPREFIX=dcm_snmp -P embed_profiles.cmake
# The table is PREFIX_embedded PREFIX_embedded_profiles[] with PREFIX_embedded_profile_count
# entries; HEADER declares the PREFIX_embedded type.
string(REPLACE "|" ";" files "${FILES}")
# Sorted by profile name (sorting paths would put "em24-e1.yaml" before "em24.yaml").
set(names "")
foreach(f IN LISTS files)
  if(NOT f STREQUAL "")
    get_filename_component(name "${f}" NAME_WLE)
    list(APPEND names "${name}")
    set("path_${name}" "${f}")
  endif()
endforeach()
list(SORT names)
set(body "/* Generated from the YAML files in ${DIR}/profiles at build time. */\n#include \"${HEADER}\"\n\n")
set(table "")
set(count 0)
foreach(name IN LISTS names)
  file(READ "${path_${name}}" hex HEX)
  string(LENGTH "${hex}" hexlen)
  math(EXPR len "${hexlen} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(APPEND body "static const char profile_${count}[] = {${bytes} 0x00};\n")
  string(APPEND table "    {\"${name}\", profile_${count}, ${len}},\n")
  math(EXPR count "${count} + 1")
endforeach()
if(count EQUAL 0)
  set(table "    {NULL, NULL, 0},\n")
endif()
string(APPEND body "\nconst ${PREFIX}_embedded ${PREFIX}_embedded_profiles[] = {\n${table}};\n")
string(APPEND body "const size_t ${PREFIX}_embedded_profile_count = ${count};\n")
file(WRITE "${OUT}" "${body}")
