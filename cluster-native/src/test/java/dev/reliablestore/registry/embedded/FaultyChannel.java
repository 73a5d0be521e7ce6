package dev.reliablestore.registry.embedded;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.function.Predicate;

/**
 * A real file channel that can be told to fail like a full or failing disk: writes throw
 * {@code IOException("No space left on device")} (optionally after writing part of the buffer),
 * or {@code force} throws {@code IOException("Input/output error")}. The {@link #factory} opens the
 * directory's channel for its fsync the same way, so a predicate that matches the directory makes
 * that fsync fail too, and it can fail renames.
 */
public final class FaultyChannel extends FileChannel {

    /** Shared switches for every channel a {@link #factory} opened (the public ones serve other modules' tests too). */
    public static final class Faults {
        public volatile boolean failWrites;
        /** When 0 or more: positional writes that still succeed before {@link #failWrites} turns on by itself. */
        volatile int positionalWritesBeforeFailing = -1;
        /** With failWrites: bytes of the failing write that still reach the file first. */
        public volatile int partialBytes;
        public volatile boolean failForce;
        /** Truncation throws {@code IOException("Input/output error")}, as a process killed before it could cut the file never cut it. */
        volatile boolean failTruncate;
        /** When set, {@code truncate} waits for this latch (a cut that takes as long as the test wants). */
        volatile java.util.concurrent.CountDownLatch holdTruncate;
        final java.util.concurrent.atomic.AtomicInteger truncatesHeld = new java.util.concurrent.atomic.AtomicInteger();
        /**
         * Writes throw an {@link OutOfMemoryError} as the JDK does when it cannot get the temporary
         * direct buffer a heap-buffer write goes through ({@code -XX:MaxDirectMemorySize}).
         */
        volatile boolean writeError;
        /** Positional reads throw an {@link OutOfMemoryError}, as a read of a large record through a heap buffer can. */
        volatile boolean readError;
        volatile int writeFailures;
        volatile int forceFailures;
        /** When set, a rename onto a file it matches throws {@code IOException("Input/output error")}. */
        volatile Predicate<Path> failRenamesTo;
        volatile int renameFailures;
        /** When set, {@code force} waits for this latch (an fsync that takes as long as the test wants). */
        volatile java.util.concurrent.CountDownLatch holdForce;
        /** With holdForce: forces that still pass before it holds them. */
        volatile int forcesBeforeHolding;
        final java.util.concurrent.atomic.AtomicInteger forcesHeld = new java.util.concurrent.atomic.AtomicInteger();
        /**
         * A small disk: when set, the files in {@code diskDir} may hold {@code diskBytes} together;
         * a write that does not fit writes what does and returns the short count, the next one
         * throws "No space left on device", as a full file system does.
         */
        volatile Path diskDir;
        volatile long diskBytes = Long.MAX_VALUE;

        /** What the small disk has left. */
        synchronized long free() throws IOException {
            long used = 0;
            try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(diskDir)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    used += java.nio.file.Files.size(f);
                }
            }
            return diskBytes - used;
        }

        /** A write at {@code position}, or at the channel's position when it is negative; overwriting takes no space. */
        synchronized int writeWithinDisk(FileChannel real, ByteBuffer src, long position) throws IOException {
            long at = position < 0 ? real.position() : position;
            long growth = Math.max(0, at + src.remaining() - Math.max(at, real.size()));
            if (growth == 0) {
                return position < 0 ? real.write(src) : real.write(src, position);
            }
            long free = free();
            long used = diskBytes - free;
            if (free <= 0) {
                writeFailures++;
                throw new IOException("No space left on device (injected: " + used + " of " + diskBytes + " bytes used)");
            }
            if (free < growth) {
                ByteBuffer part = src.duplicate();
                part.limit(part.position() + (int) (src.remaining() - growth + free));
                int n = position < 0 ? real.write(part) : real.write(part, position);
                src.position(src.position() + n);
                return n;
            }
            return position < 0 ? real.write(src) : real.write(src, position);
        }
    }

    /** {@code real}, obeying {@code faults} (for a channel opened outside a {@link ChannelFactory}). */
    public static FileChannel wrap(FileChannel real, Faults faults) {
        return new FaultyChannel(real, faults);
    }

    /** Opens real channels; those whose file matches {@code which} obey {@code faults}. */
    static ChannelFactory factory(Faults faults, Predicate<Path> which) {
        return new ChannelFactory() {
            @Override
            public FileChannel open(Path file, OpenOption... options) throws IOException {
                FileChannel real = FileChannel.open(file, options);
                return which.test(file) ? new FaultyChannel(real, faults) : real;
            }

            @Override
            public void move(Path from, Path to, java.nio.file.CopyOption... options) throws IOException {
                Predicate<Path> fail = faults.failRenamesTo;
                if (fail != null && fail.test(to)) {
                    faults.renameFailures++;
                    throw new IOException("Input/output error (injected rename failure of " + from + " to " + to + ")");
                }
                ChannelFactory.super.move(from, to, options);
            }

            @Override
            public long usableSpace(Path dir) throws IOException {
                return faults.diskDir != null ? faults.free() : ChannelFactory.super.usableSpace(dir);
            }
        };
    }

    private final FileChannel real;
    private final Faults faults;

    private FaultyChannel(FileChannel real, Faults faults) {
        this.real = real;
        this.faults = faults;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        if (faults.writeError) {
            throw new OutOfMemoryError("Cannot reserve " + src.remaining() + " bytes of direct buffer memory (injected)");
        }
        if (faults.failWrites) {
            faults.writeFailures++;
            int partial = Math.min(faults.partialBytes, src.remaining());
            if (partial > 0) {
                ByteBuffer part = src.duplicate();
                part.limit(part.position() + partial);
                real.write(part);
                real.force(false);
            }
            throw new IOException("No space left on device (injected)");
        }
        if (faults.diskDir != null) {
            return faults.writeWithinDisk(real, src, -1);
        }
        return real.write(src);
    }

    @Override
    public void force(boolean metaData) throws IOException {
        java.util.concurrent.CountDownLatch hold = faults.holdForce;
        if (hold != null && faults.forcesBeforeHolding > 0) {
            faults.forcesBeforeHolding--;
            hold = null;
        }
        if (hold != null) {
            faults.forcesHeld.incrementAndGet();
            try {
                hold.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while held in force");
            }
        }
        if (faults.failForce) {
            faults.forceFailures++;
            throw new IOException("Input/output error (injected fsync failure)");
        }
        real.force(metaData);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return real.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        return real.read(dsts, offset, length);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        if (faults.failWrites) {
            faults.writeFailures++;
            throw new IOException("No space left on device (injected)");
        }
        return real.write(srcs, offset, length);
    }

    @Override
    public long position() throws IOException {
        return real.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
        real.position(newPosition);
        return this;
    }

    @Override
    public long size() throws IOException {
        return real.size();
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
        java.util.concurrent.CountDownLatch hold = faults.holdTruncate;
        if (hold != null) {
            faults.truncatesHeld.incrementAndGet();
            try {
                hold.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while held in truncate");
            }
        }
        if (faults.failTruncate) {
            throw new IOException("Input/output error (injected truncate failure)");
        }
        real.truncate(size);
        return this;
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        return real.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
        if (faults.failWrites) {
            throw new IOException("No space left on device (injected)");
        }
        return real.transferFrom(src, position, count);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        if (faults.readError) {
            throw new OutOfMemoryError("Cannot reserve " + dst.remaining() + " bytes of direct buffer memory (injected)");
        }
        return real.read(dst, position);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        if (faults.writeError) {
            throw new OutOfMemoryError("Cannot reserve " + src.remaining() + " bytes of direct buffer memory (injected)");
        }
        int left = faults.positionalWritesBeforeFailing;
        if (left == 0) {
            faults.positionalWritesBeforeFailing = -1;
            faults.failWrites = true;
        } else if (left > 0) {
            faults.positionalWritesBeforeFailing = left - 1;
        }
        if (faults.failWrites) {
            faults.writeFailures++;
            int partial = Math.min(faults.partialBytes, src.remaining());
            if (partial > 0) {
                ByteBuffer part = src.duplicate();
                part.limit(part.position() + partial);
                real.write(part, position);
                real.force(false);
            }
            throw new IOException("No space left on device (injected)");
        }
        if (faults.diskDir != null) {
            return faults.writeWithinDisk(real, src, position);
        }
        return real.write(src, position);
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
        return real.map(mode, position, size);
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
        return real.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
        return real.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
        real.close();
    }
}
