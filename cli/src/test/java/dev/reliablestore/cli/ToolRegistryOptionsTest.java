package dev.reliablestore.cli;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The tool's connection never runs for primary unless the user says so. */
class ToolRegistryOptionsTest {

    @Test
    void primaryCandidateIsFalseUnlessGiven() {
        assertThat(StoreSession.toolRegistryOptions("zookeeper://127.0.0.1:2181/rs?acl=open", Map.of("sessionTimeout", "10s")))
                .containsExactlyInAnyOrderEntriesOf(Map.of("sessionTimeout", "10s", "primaryCandidate", "false"));
        assertThat(StoreSession.toolRegistryOptions("zookeeper://127.0.0.1:2181/rs?acl=open", Map.of("primaryCandidate", "true")))
                .isEqualTo(Map.of("primaryCandidate", "true"));
        // in the URI's query: the options map would win over it, so nothing is added
        assertThat(StoreSession.toolRegistryOptions("zookeeper://127.0.0.1:2181/rs?acl=open&primaryCandidate=true", Map.of())).isEmpty();
        // a backend without the option is not given it
        assertThat(StoreSession.toolRegistryOptions("embedded:/tmp/x", Map.of())).isEmpty();
    }
}
