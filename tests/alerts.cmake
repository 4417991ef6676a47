# Alert rules (alerts/pgvitals.rules.yml), their promtool unit tests and the runbook every
# alert links to (docs/runbook.md). Included by tests/CMakeLists.txt.
#
# The same file is also the runbook check, run in script mode:
#   cmake -DRULES=alerts/pgvitals.rules.yml -DRUNBOOK=docs/runbook.md -P tests/alerts.cmake
# It fails unless every alert has exactly one `## <AlertName>` heading in the runbook and a
# runbook_url pointing at that heading's anchor, every `## Pgvitals...` heading is an alert,
# and every alert's section has an **Escalate.** step.

if(CMAKE_SCRIPT_MODE_FILE)
  set(url_prefix "https://github.com/pgvitals/pgvitals/blob/main/docs/runbook.md#")
  foreach(f RULES RUNBOOK)
    if(NOT EXISTS "${${f}}")
      message(FATAL_ERROR "${f}=${${f}}: no such file")
    endif()
  endforeach()

  # GitHub's heading anchor: lower case, punctuation other than - and _ dropped, spaces to -.
  function(github_anchor heading out)
    string(TOLOWER "${heading}" a)
    string(REGEX REPLACE "[^a-z0-9 _-]" "" a "${a}")
    string(REPLACE " " "-" a "${a}")
    set(${out} "${a}" PARENT_SCOPE)
  endfunction()

  # Only the lines that matter: rule starts and runbook links (PromQL's [5m] and the like
  # never reach CMake's list handling).
  file(STRINGS "${RULES}" rule_lines REGEX "^[ ]*-[ ]+(alert|record):|^[ ]+runbook_url:")
  file(STRINGS "${RUNBOOK}" headings REGEX "^## ")

  set(errors "")
  set(alerts "")
  set(current "")
  set(current_has_url FALSE)
  foreach(line IN LISTS rule_lines)
    if(line MATCHES "^[ ]*-[ ]+(alert|record):[ ]*\"?([^\" ]+)\"?[ ]*$")
      if(current AND NOT current_has_url)
        string(APPEND errors "  ${current}: no runbook_url annotation\n")
      endif()
      if(CMAKE_MATCH_1 STREQUAL "alert")
        set(current "${CMAKE_MATCH_2}")
        list(APPEND alerts "${current}")
      else()
        set(current "")
      endif()
      set(current_has_url FALSE)
    elseif(line MATCHES "runbook_url:[ ]*[\"']?([^\"' ]+)[\"']?[ ]*$")
      set(url "${CMAKE_MATCH_1}")
      if(NOT current)
        string(APPEND errors "  runbook_url outside an alert rule: ${url}\n")
        continue()
      endif()
      set(current_has_url TRUE)
      github_anchor("${current}" anchor)
      if(NOT url STREQUAL "${url_prefix}${anchor}")
        string(APPEND errors "  ${current}: runbook_url is ${url}, expected ${url_prefix}${anchor}\n")
      endif()
    endif()
  endforeach()
  if(current AND NOT current_has_url)
    string(APPEND errors "  ${current}: no runbook_url annotation\n")
  endif()
  list(REMOVE_DUPLICATES alerts)  # one alert may have several rules (warning + critical)
  list(LENGTH alerts n_alerts)
  if(n_alerts EQUAL 0)
    string(APPEND errors "  no alert rules found in ${RULES}\n")
  endif()

  foreach(alert IN LISTS alerts)
    list(FIND headings "## ${alert}" at)
    if(at EQUAL -1)
      string(APPEND errors "  ${alert}: no '## ${alert}' heading in ${RUNBOOK}\n")
      continue()
    endif()
    # A second identical heading gets the anchor <name>-1: the link would land on the first.
    set(count 0)
    foreach(h IN LISTS headings)
      if(h STREQUAL "## ${alert}")
        math(EXPR count "${count} + 1")
      endif()
    endforeach()
    if(count GREATER 1)
      string(APPEND errors "  ${alert}: ${count} '## ${alert}' headings in ${RUNBOOK}\n")
    endif()
  endforeach()
  foreach(h IN LISTS headings)
    if(h MATCHES "^## (Pgvitals[A-Za-z0-9]*)[ ]*$")
      list(FIND alerts "${CMAKE_MATCH_1}" at)
      if(at EQUAL -1)
        string(APPEND errors "  '${h}' in ${RUNBOOK} is not an alert in ${RULES}\n")
      endif()
    endif()
  endforeach()

  # Every alert's section ends its steps with whom to escalate to.
  file(STRINGS "${RUNBOOK}" runbook_lines REGEX "^## |^[*][*]Escalate[.][*][*]")
  set(section "")
  foreach(line IN LISTS runbook_lines)
    if(line MATCHES "^## (Pgvitals[A-Za-z0-9]*)[ ]*$")
      set(section "${CMAKE_MATCH_1}")
      list(APPEND unescalated "${section}")
    elseif(line MATCHES "^## ")
      set(section "")
    elseif(section)
      list(REMOVE_ITEM unescalated "${section}")
    endif()
  endforeach()
  foreach(alert IN LISTS unescalated)
    string(APPEND errors "  ${alert}: its runbook section has no **Escalate.** step\n")
  endforeach()

  if(errors)
    message(FATAL_ERROR "alerts and runbook disagree:\n${errors}")
  endif()
  message(STATUS "${n_alerts} alerts, each with its runbook section and link")
  return()
endif()

find_program(PGVITALS_PROMTOOL promtool)
if(NOT PGVITALS_PROMTOOL)
  # Registered anyway: a missing promtool fails the tests instead of skipping them silently.
  message(WARNING "promtool not found (Debian package prometheus; scripts/install-deps installs "
                  "it): the alert rule tests will fail")
  set(PGVITALS_PROMTOOL promtool)
endif()

set(PGVITALS_ALERTS_DIR ${PROJECT_SOURCE_DIR}/alerts)
add_test(NAME alerts_rules_check
         COMMAND ${PGVITALS_PROMTOOL} check rules ${PGVITALS_ALERTS_DIR}/pgvitals.rules.yml
         WORKING_DIRECTORY ${PGVITALS_ALERTS_DIR})
add_test(NAME alerts_rules_test
         COMMAND ${PGVITALS_PROMTOOL} test rules ${PGVITALS_ALERTS_DIR}/pgvitals.rules.test.yml
         WORKING_DIRECTORY ${PGVITALS_ALERTS_DIR})
add_test(NAME alerts_runbook_links
         COMMAND ${CMAKE_COMMAND} -DRULES=${PGVITALS_ALERTS_DIR}/pgvitals.rules.yml
                 -DRUNBOOK=${PROJECT_SOURCE_DIR}/docs/runbook.md -P ${CMAKE_CURRENT_LIST_FILE}
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
# scripts/render-alerts points every runbook_url at another base: the copy is valid rules, every
# link moved (anchors kept), none left on the default base.
add_test(NAME alerts_render_runbook_base
         COMMAND sh -c "set -e; d=$(mktemp -d); trap 'rm -rf \"$d\"' EXIT; \
\"$1/scripts/render-alerts\" --runbook-base 'https://wiki.example.com/ops/runbook?a=1&b=2/' --out \"$d/r.yml\"; \
\"$2\" check rules \"$d/r.yml\"; \
n=$(grep -c 'runbook_url:' \"$1/alerts/pgvitals.rules.yml\"); \
m=$(grep -c 'runbook_url: https://wiki.example.com/ops/runbook?a=1&b=2#pgvitals[a-z]*$' \"$d/r.yml\"); \
echo \"$m of $n links moved\"; test \"$n\" -gt 0; test \"$m\" = \"$n\"; \
! grep -n 'github.com/pgvitals' \"$d/r.yml\"; \
! \"$1/scripts/render-alerts\" --runbook-base 'https://x/#y' >/dev/null 2>&1"
                 sh ${PROJECT_SOURCE_DIR} ${PGVITALS_PROMTOOL})
set_tests_properties(alerts_rules_check alerts_rules_test alerts_runbook_links
                     alerts_render_runbook_base PROPERTIES LABELS unit TIMEOUT 60)
