package dev.reliablestore.cluster;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/** Runs tasks on the calling thread until told to refuse them, as a shut-down or saturated executor does. */
final class RefusingExecutor implements Executor {

    private final String why;
    private volatile boolean refusing;

    RefusingExecutor(String why) {
        this.why = why;
    }

    void refuse(boolean on) {
        refusing = on;
    }

    @Override
    public void execute(Runnable task) {
        if (refusing) {
            throw new RejectedExecutionException(why);
        }
        task.run();
    }
}
