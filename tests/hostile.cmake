# Hostile input: the HTTP parser in isolation, then the agent as a real process under
# hostile clients, over HTTPS and with authentication.
pgvitals_add_test(test_request unit unit/request_test.cpp)
pgvitals_add_test(test_hostile integration fault/hostile_http_test.cpp fault/tls_auth_test.cpp)
target_link_libraries(test_hostile PRIVATE PkgConfig::HTTPLIB)
target_include_directories(test_hostile PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/agent)
