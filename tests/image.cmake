# The container image (scripts/image-test): the Dockerfile built with buildah on a Debian 12
# base made by mmdebstrap from Debian's packages, its configuration checked, and its binary
# run chrooted as 65532:65532 against a PostgreSQL the script starts. Labelled `image` and
# left out of scripts/test: it needs root, buildah and mmdebstrap (scripts/install-deps
# --image), builds the binary again inside the image, and downloads Debian packages.
# Exit 77 (no root, no buildah) is a skip unless PGVITALS_REQUIRE_IMAGE_TEST=1, as in .ci/run:
#   sudo scripts/install-deps --image
#   sudo PGVITALS_REQUIRE_IMAGE_TEST=1 ctest --test-dir build --output-on-failure -L image
# RUN_SERIAL: it compiles on every core.
add_test(NAME image_test COMMAND ${PROJECT_SOURCE_DIR}/scripts/image-test)
set_tests_properties(image_test PROPERTIES LABELS image SKIP_RETURN_CODE 77 TIMEOUT 1200
                                           RUN_SERIAL TRUE)
