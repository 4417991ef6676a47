# TLS to PostgreSQL: sslmode, sslrootcert and client certificates against a cluster with
# ssl=on and a throwaway CA (ClusterOptions::tls), at the pg layer and through the agent.
pgvitals_add_test(test_tls integration integration/tls_test.cpp agent/tls_agent_test.cpp)
target_include_directories(test_tls PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/agent)
target_link_libraries(test_tls PRIVATE nlohmann_json::nlohmann_json)
