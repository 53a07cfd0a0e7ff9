# bridge mode: its entry of the mode table, in the model layer (no
# controller: nothing runs between nodes).  Included by CMakeLists.txt.
target_sources(loom_model PRIVATE ${CMAKE_CURRENT_LIST_DIR}/mode.c)
