package dev.reliablestore.registry.zookeeper;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Losses of a large request count towards "the servers refuse its size" only in a row: an answer in between starts again. */
class OversizedRequestsTest {

    private static final long LARGE = ZooKeeperOptions.ZOOKEEPER_DEFAULT_MAX_BUFFER + 1L;

    @Test
    void twoLossesInARowOfALargeRequestAreALimitError() {
        OversizedRequests oversized = new OversizedRequests(4 << 20);
        Object batch = new Object();
        assertThat(oversized.fenced(batch, LARGE)).isNull();
        assertThat(oversized.fenced(batch, LARGE)).isNotNull().hasMessageContaining(String.valueOf(LARGE));
    }

    @Test
    void anAnswerBetweenTwoLossesProvesTheSizeIsAcceptedSoTheyAreTheConnections() {
        OversizedRequests oversized = new OversizedRequests(4 << 20);
        Object batch = new Object();
        assertThat(oversized.fenced(batch, LARGE)).isNull();
        oversized.answered(batch); // e.g. a multi that failed a condition: the server read the whole request
        assertThat(oversized.fenced(batch, LARGE)).as("one loss since the answer").isNull();
        assertThat(oversized.fenced(batch, LARGE)).as("two in a row since the answer").isNotNull();
    }

    @Test
    void lossesOfASmallRequestAreTheConnectionsAndAreCountedPerBatch() {
        OversizedRequests oversized = new OversizedRequests(4 << 20);
        Object one = new Object();
        Object other = new Object();
        assertThat(oversized.fenced(one, LARGE)).isNull();
        assertThat(oversized.fenced(other, LARGE)).as("another batch's first loss").isNull();
        assertThat(oversized.fenced(one, ZooKeeperOptions.ZOOKEEPER_DEFAULT_MAX_BUFFER)).isNull();
        assertThat(oversized.fenced(one, LARGE)).as("the small request's loss broke the row").isNull();
    }
}
