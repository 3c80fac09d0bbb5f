# Providers: each tasks/<provider>/<provider>.json spec is compiled into the binary, so the worker
# runs without a specs directory; `specs_dir` can still point at edited copies. Included from
# worker/CMakeLists.txt so that the generated source belongs to the swcore target's directory.
set(SW_TASKS_DIR ${PROJECT_SOURCE_DIR}/tasks)
file(GLOB SW_SPEC_FILES CONFIGURE_DEPENDS ${SW_TASKS_DIR}/*/*.json)
set(SW_SPECS_C ${CMAKE_CURRENT_BINARY_DIR}/specs_builtin.c)
# A list separator that survives the trip through add_custom_command.
string(REPLACE ";" "|" SW_SPEC_FILES_ARG "${SW_SPEC_FILES}")
add_custom_command(
  OUTPUT ${SW_SPECS_C}
  COMMAND ${CMAKE_COMMAND} -DOUT=${SW_SPECS_C} "-DSPECS=${SW_SPEC_FILES_ARG}"
          -P ${SW_TASKS_DIR}/embed_specs.cmake
  DEPENDS ${SW_SPEC_FILES} ${SW_TASKS_DIR}/embed_specs.cmake
  COMMENT "Embedding provider specs"
  VERBATIM)
set(SW_TASK_SOURCES ${SW_TASKS_DIR}/sw_spec.c ${SW_TASKS_DIR}/sw_matrix.c ${SW_SPECS_C})
