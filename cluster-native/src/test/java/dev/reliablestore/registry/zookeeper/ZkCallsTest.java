package dev.reliablestore.registry.zookeeper;

import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/** The bound on a ZooKeeper answer: an overdue request becomes a connection problem, an answered one is left alone. */
class ZkCallsTest {

    @Test
    void aRequestZooKeeperNeverAnswersFailsAsAConnectionProblemAtTheSweepAfterItsDeadline() {
        AnswerDeadlines deadlines = new AnswerDeadlines(0);
        CompletableFuture<String> unanswered = deadlines.watch(new CompletableFuture<>());
        assertThat(unanswered).isNotDone();
        deadlines.sweep();
        Throwable cause = unanswered.handle((v, t) -> ZkCalls.unwrap(t)).join();
        assertThat(cause).isInstanceOf(KeeperException.OperationTimeoutException.class);
        assertThat(ZkCalls.isConnectionProblem(cause)).as("so a write's outcome is settled with its fence").isTrue();
        assertThat(deadlines.outstanding()).isZero();
    }

    @Test
    void anAnswerInTimeIsKeptAndForgottenAndARequestWithinItsDeadlineIsLeftAlone() {
        AnswerDeadlines deadlines = new AnswerDeadlines(60_000);
        CompletableFuture<String> answered = deadlines.watch(new CompletableFuture<>());
        CompletableFuture<String> pending = deadlines.watch(new CompletableFuture<>());
        answered.complete("data");
        deadlines.sweep();
        assertThat(deadlines.outstanding()).as("an answered request is forgotten by the sweep").isEqualTo(1);
        assertThat(answered).isCompletedWithValue("data");
        assertThat(pending).as("its deadline has not passed").isNotDone();
        assertThat(deadlines.sweepPeriodMs()).isEqualTo(250);
        assertThat(new AnswerDeadlines(8_000).sweepPeriodMs()).isEqualTo(250);
        assertThat(new AnswerDeadlines(200).sweepPeriodMs()).isEqualTo(50);
    }
}
