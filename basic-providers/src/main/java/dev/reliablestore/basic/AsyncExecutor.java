package dev.reliablestore.basic;

import dev.reliablestore.api.StoreClosedException;

import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads a factory runs its stores' async twins on: daemon threads, created on demand up to
 * the number of processors and retired after a minute idle. Once the factory is closed, a new
 * async call fails with {@link StoreClosedException} through its future.
 */
final class AsyncExecutor implements Executor {

    private final ThreadPoolExecutor pool;
    private final String owner;

    AsyncExecutor(String owner) {
        this.owner = owner;
        int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "reliablestore-" + owner + "-async-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        pool.allowCoreThreadTimeOut(true);
    }

    @Override
    public void execute(Runnable command) {
        try {
            pool.execute(command);
        } catch (RejectedExecutionException e) {
            throw new StoreClosedException(owner);
        }
    }

    /** Lets queued calls finish (they fail with StoreClosedException) and refuses new ones. */
    void shutdown() {
        pool.shutdown();
    }
}
