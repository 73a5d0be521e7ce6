package dev.reliablestore.registry.zookeeper;

import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The bound on a ZooKeeper answer: an overdue request becomes a connection problem, an answered one is left alone. */
class ZkCallsTest {

    @Test
    void aRequestZooKeeperNeverAnswersFailsAsAConnectionProblem() {
        CompletableFuture<String> unanswered = ZkCalls.answeredWithin(new CompletableFuture<>(), 50);
        await().atMost(Duration.ofSeconds(10)).until(unanswered::isDone);
        Throwable cause = unanswered.handle((v, t) -> ZkCalls.unwrap(t)).join();
        assertThat(cause).isInstanceOf(KeeperException.OperationTimeoutException.class);
        assertThat(ZkCalls.isConnectionProblem(cause)).as("so a write's outcome is settled with its fence").isTrue();
    }

    @Test
    void anAnswerInTimeIsKeptAndALateTimerChangesNothing() {
        CompletableFuture<String> answered = new CompletableFuture<>();
        ZkCalls.answeredWithin(answered, 50);
        answered.complete("data");
        CompletableFuture<String> control = ZkCalls.answeredWithin(new CompletableFuture<>(), 50);
        await().atMost(Duration.ofSeconds(10)).until(control::isDone);
        assertThat(answered).isCompletedWithValue("data");
    }
}
