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

# loom-bgp: bgp mode's CNI plugin, a routed veth per pod over the pod
# library (plugin*.c); its config mapping as a library for the tests.
file(GLOB LOOM_BGP_CNI_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/plugin*.c)
add_library(loombgpcni STATIC ${LOOM_BGP_CNI_SOURCES})
target_include_directories(loombgpcni PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(loombgpcni PUBLIC loomleasecni)
add_executable(loom-bgp ${CMAKE_CURRENT_LIST_DIR}/main.c)
target_link_libraries(loom-bgp PRIVATE loombgpcni)
if(TARGET test_bgp_conf)
  target_link_libraries(test_bgp_conf PRIVATE loombgpcni)
endif()
