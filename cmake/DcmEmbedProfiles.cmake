# dcm_embed_profiles(NAME LABEL HEADER PREFIX): compiles the calling collector folder's
# profiles/*.yaml into dcm_core via embed_profiles.cmake (generated/NAME_profiles_data.c).
# LABEL names the collector in the build log; HEADER and PREFIX as in embed_profiles.cmake.
set(DCM_EMBED_PROFILES_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/embed_profiles.cmake)

function(dcm_embed_profiles name label header prefix)
  file(GLOB profiles CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/profiles/*.yaml)
  list(SORT profiles)
  string(REPLACE ";" "|" profile_arg "${profiles}")
  file(RELATIVE_PATH dir ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  set(out ${CMAKE_BINARY_DIR}/generated/${name}_profiles_data.c)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} "-DFILES=${profile_arg}" -DDIR=${dir}
            -DHEADER=${header} -DPREFIX=${prefix} -P ${DCM_EMBED_PROFILES_SCRIPT}
    DEPENDS ${profiles} ${DCM_EMBED_PROFILES_SCRIPT}
    COMMENT "Embedding the ${label} device profiles"
    VERBATIM)
  # dcm_core is defined in the top directory, where this rule is not visible: a target here
  # runs it first.
  add_custom_target(dcm_${name}_profiles DEPENDS ${out})
  add_dependencies(dcm_core dcm_${name}_profiles)
  target_sources(dcm_core PRIVATE ${out})
endfunction()
