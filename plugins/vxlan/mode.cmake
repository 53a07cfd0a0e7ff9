# vxlan mode: its entry of the mode table (in the model layer) and its
# overlay controller (controller.c over the pure diff.c, vtep.c), linked
# into loomd.  An OBJECT library, so loomd holds the controller although
# only the entry's weak reference names it (model/mode.h).  Included by
# CMakeLists.txt.
target_sources(loom_model PRIVATE ${CMAKE_CURRENT_LIST_DIR}/mode.c)
add_library(loomvxlan OBJECT ${CMAKE_CURRENT_LIST_DIR}/controller.c
                             ${CMAKE_CURRENT_LIST_DIR}/diff.c
                             ${CMAKE_CURRENT_LIST_DIR}/vtep.c)
target_link_libraries(loomvxlan PUBLIC loomagent)
target_link_libraries(loomd PRIVATE loomvxlan)
foreach(t test_vxlan_vtep test_vxlan_diff)
  if(TARGET ${t})
    target_link_libraries(${t} PRIVATE loomvxlan)
  endif()
endforeach()

# loom-vxlan: vxlan mode's CNI plugin, a thin layer over the pod library
# and loom-bridge's topology (plugin*.c); its config mapping as a library
# for the tests.
file(GLOB LOOM_VXLAN_CNI_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/plugin*.c)
add_library(loomvxlancni STATIC ${LOOM_VXLAN_CNI_SOURCES})
target_include_directories(loomvxlancni PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(loomvxlancni PUBLIC loomleasecni loombridge)
add_executable(loom-vxlan ${CMAKE_CURRENT_LIST_DIR}/main.c)
target_link_libraries(loom-vxlan PRIVATE loomvxlancni)
if(TARGET test_vxlan_conf)
  target_link_libraries(test_vxlan_conf PRIVATE loomvxlancni)
endif()
