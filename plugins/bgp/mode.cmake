# bgp mode: its entry of the mode table (in the model layer) and its BIRD
# controller (bird*.c, controller*.c), linked into loomd as an OBJECT
# library (see plugins/vxlan/mode.cmake).  The golden configs of
# tests/bgp/golden/ are checked by test_bird_render.  Included by
# CMakeLists.txt.
target_sources(loom_model PRIVATE ${CMAKE_CURRENT_LIST_DIR}/mode.c)
file(GLOB LOOM_BGP_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/bird*.c
                                             ${CMAKE_CURRENT_LIST_DIR}/controller*.c)
add_library(loombgp OBJECT ${LOOM_BGP_SOURCES})
target_include_directories(loombgp PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(loombgp PUBLIC loomagent)
target_link_libraries(loomd PRIVATE loombgp)
if(TARGET test_bird_render)
  target_link_libraries(test_bird_render PRIVATE loombgp)
  target_compile_definitions(test_bird_render PRIVATE
    LOOM_BGP_GOLDEN="${CMAKE_SOURCE_DIR}/tests/bgp/golden")
endif()
