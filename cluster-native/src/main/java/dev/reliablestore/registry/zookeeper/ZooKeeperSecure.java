package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.options.OptionTable;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryException;
import dev.reliablestore.registry.RegistryUnavailableException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * {@code reliablestore zk secure}: applies the configured ACL to the chroot and every znode below it,
 * then writes the marker that lets the store open (see docs/zookeeper-backend.md, Security).
 *
 * <p>Passes over the subtree repeat until one changes nothing: registries may be writing meanwhile
 * (their new znodes already carry the ACL), and a foreign client may have created znodes under a parent
 * before its ACL was fixed. Once a pass changes nothing every parent carries the ACL, so no other
 * identity can add a znode, and the marker is written. The znodes above the chroot are left alone.
 */
public final class ZooKeeperSecure {

    /** Passes before giving up on a subtree whose ACLs keep changing. */
    public static final int MAX_PASSES = 10;
    /** Changed znodes listed in a {@link Result} (all are counted). */
    public static final int MAX_LISTED = 1000;

    private ZooKeeperSecure() {
    }

    /** One pass: znodes checked and znodes whose ACL was set (in a dry run: would be set). */
    public record Pass(int checked, int changed) {
    }

    /** A znode whose ACL differed, with that ACL as found (digest ids show only their user). */
    public record Change(String znode, String acl) {
    }

    /**
     * @param store         the store URI without secrets
     * @param chroot        the subtree secured
     * @param acl           the configured ACL, for people
     * @param dryRun        nothing was written
     * @param passes        every pass, the last one changing nothing (a dry run has one)
     * @param changes       the first {@link #MAX_LISTED} changed znodes, over all passes
     * @param unlisted      znodes whose children the last pass could not list (their ACL grants no READ; a dry run only)
     * @param marker        the marker's path
     * @param markerStood   whether, before this run, the marker stood for the subtree (present, with the
     *                      configured ACL and identity, and proving that identity wrote it); opening a
     *                      chroot with data needs it
     * @param markerWritten whether the marker was written
     */
    public record Result(String store, String chroot, String acl, boolean dryRun, List<Pass> passes, List<Change> changes, int unlisted,
                         String marker, boolean markerStood, boolean markerWritten) {
        public Result {
            passes = List.copyOf(passes);
            changes = List.copyOf(changes);
        }

        /** Znodes changed over all passes (in a dry run: that would change). */
        public int changed() {
            return passes.stream().mapToInt(Pass::changed).sum();
        }
    }

    /**
     * Secures the chroot of a {@code zookeeper://} store URI with its options (the same as opening the
     * store takes, e.g. {@code digest}). With {@code acl=sasl} or {@code acl=x509} a {@code digest} in
     * {@code options} is the chroot's previous credentials: the session authenticates with them too, so
     * it may replace a digest ACL by the new one.
     *
     * @throws RegistryArgumentException bad options, or {@code acl=open} (nothing to secure)
     * @throws ZooKeeperAclException     a znode whose ACL the configured identity may not read or change
     * @throws RegistryException         no such chroot, or the ACLs kept changing for {@link #MAX_PASSES} passes
     */
    public static Result secure(URI uri, Map<String, String> options, boolean dryRun) {
        return secure(uri, options, dryRun, zk -> { });
    }

    /** {@link #secure}; {@code afterSet} is called with the handle after each ACL set (tests lose the connection there). */
    static Result secure(URI uri, Map<String, String> options, boolean dryRun, java.util.function.Consumer<ZooKeeper> afterSet) {
        // moving to sasl/x509: the digest option (only in the options map, never the URI) is the chroot's old identity,
        // which has the ADMIN permission that setting the new ACL needs; the new identity has none yet
        String previousDigest = null;
        Map<String, String> target = options;
        String targetAcl = options.containsKey(ZooKeeperOptions.ACL.name()) ? options.get(ZooKeeperOptions.ACL.name()) : ClusterRegistries.queryOptions(uri).get(ZooKeeperOptions.ACL.name());
        if (options.containsKey(ZooKeeperOptions.DIGEST.name())
                && (ZooKeeperOptions.ACL_SASL.equals(targetAcl) || ZooKeeperOptions.ACL_X509.equals(targetAcl))) {
            Map<String, String> rest = new HashMap<>(options);
            String reference = rest.remove(ZooKeeperOptions.DIGEST.name());
            previousDigest = OptionTable.of("zk secure", ZooKeeperOptions.DIGEST).read(Map.of(ZooKeeperOptions.DIGEST.name(), reference),
                    RegistryArgumentException::new).get(ZooKeeperOptions.DIGEST);
            target = rest;
        }
        ZooKeeperOptions o = ZooKeeperOptions.parse(uri, target);
        AclPolicy policy = AclPolicy.of(o);
        if (!policy.enforced()) {
            throw new RegistryArgumentException("zk secure applies the configured ACL (digest, sasl or x509) to " + o.redactedUri()
                    + "; with acl=open there is none: give digest=user:password, kerberosPrincipal or acl=x509 instead");
        }
        if (o.kerberosPrincipal() != null) {
            KerberosJaas.checkLogin(KerberosJaas.section(o.kerberosPrincipal(), o.kerberosKeytab()), o.kerberosPrincipal(), o.kerberosKeytab());
        }
        ZnodeLayout layout = new ZnodeLayout(o.chroot());
        AclGuard guard = new AclGuard(layout, policy, o);
        Connection connection = new Connection();
        ZooKeeper zk;
        try {
            zk = new ZooKeeper(o.connectString(), o.sessionTimeoutMs(), connection, ZooKeeperRegistry.clientConfig(o));
        } catch (IOException e) {
            throw new RegistryUnavailableException("cannot connect to ZooKeeper at " + o.connectString() + ": " + e.getMessage(), e);
        }
        try {
            if (o.digestCredentials() != null) {
                zk.addAuthInfo("digest", o.digestCredentials().getBytes(StandardCharsets.UTF_8));
            }
            if (previousDigest != null) {
                zk.addAuthInfo("digest", previousDigest.getBytes(StandardCharsets.UTF_8));
            }
            connection.await(zk, o, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(o.connectionTimeoutMs()), "connectionTimeout");
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(o.failoverTimeoutMs());
            if (retrying(o, zk, connection, deadline, () -> zk.exists(layout.chroot, false)) == null) {
                throw new RegistryException("ZooKeeper has no chroot " + layout.chroot + " for " + o.redactedUri()
                        + ": nothing to secure (opening the store creates it with the configured ACL)");
            }
            boolean markerStood = retrying(o, zk, connection, deadline, () -> guard.markerStands(zk).get());
            List<Pass> passes = new ArrayList<>();
            List<Change> changes = new ArrayList<>();
            int unlisted = 0;
            while (true) {
                // a pass retried after a lost connection: the ACLs its failed attempts set are this pass's changes too
                // (the attempt that finishes finds them right); a dry run sets nothing, so only its last attempt counts
                List<AclWalk.Pass> attempts = new ArrayList<>();
                AclWalk.Pass pass = retrying(o, zk, connection, deadline, () -> {
                    AclWalk.Pass attempt = new AclWalk.Pass();
                    if (dryRun) {
                        attempts.clear();
                    }
                    attempts.add(attempt);
                    return AclWalk.run(zk, layout.chroot, policy, !dryRun, Integer.MAX_VALUE, MAX_LISTED, guard, attempt,
                            () -> afterSet.accept(zk)).get();
                });
                int changed = 0;
                for (AclWalk.Pass attempt : attempts) {
                    synchronized (attempt) {
                        changed += attempt.changed;
                        for (AclWalk.Mismatch m : attempt.mismatches) {
                            if (changes.size() < MAX_LISTED) {
                                changes.add(new Change(m.znode(), policy.describe(m.acl())));
                            }
                        }
                    }
                }
                passes.add(new Pass(pass.checked, changed));
                unlisted = pass.unlisted;
                if (dryRun || changed == 0 && pass.raced == 0) {
                    break;
                }
                if (passes.size() == MAX_PASSES) {
                    throw new RegistryException("the ACLs under " + layout.chroot + " of " + o.redactedUri() + " kept changing: pass " + MAX_PASSES
                            + " still set " + changed + " of " + pass.checked + " znodes (does a client with other credentials keep changing"
                            + " them?); the marker was not written, run zk secure again");
                }
                // passes are bounded by MAX_PASSES and each makes progress: the deadline is per call
                deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(o.failoverTimeoutMs());
            }
            if (!dryRun) {
                int checked = passes.get(passes.size() - 1).checked();
                retrying(o, zk, connection, deadline, () -> guard.writeMarker(zk, "zk secure", checked, true).get());
            }
            return new Result(o.redactedUri(), layout.chroot, policy.expected(), dryRun, passes, changes, unlisted, guard.marker(), markerStood,
                    !dryRun);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryUnavailableException("interrupted while securing " + o.redactedUri(), e);
        } finally {
            try {
                zk.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private interface Call<T> {
        T call() throws Exception;
    }

    /** Runs an idempotent step, again after a connection problem, until the failover timeout. */
    private static <T> T retrying(ZooKeeperOptions o, ZooKeeper zk, Connection connection, long deadline, Call<T> step) throws InterruptedException {
        while (true) {
            try {
                return step.call();
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                Throwable cause = e instanceof ExecutionException ? ZkCalls.unwrap(e.getCause()) : e;
                if (cause instanceof RegistryException re) {
                    throw re;
                }
                if (!ZkCalls.isConnectionProblem(cause)) {
                    throw new RegistryException("securing " + o.redactedUri() + " failed: " + cause, cause);
                }
                connection.await(zk, o, deadline, "failoverTimeout");
            }
        }
    }

    /** Wakes {@link #await} on every change of the handle's state. */
    private static final class Connection implements Watcher {

        @Override
        public synchronized void process(WatchedEvent event) {
            notifyAll();
        }

        /** Until the handle is connected; the state is read from the handle, the events only wake this up. */
        synchronized void await(ZooKeeper zk, ZooKeeperOptions o, long deadline, String timeoutOption) throws InterruptedException {
            while (!zk.getState().isConnected()) {
                long left = deadline - System.nanoTime();
                if (!zk.getState().isAlive() || left <= 0) {
                    throw new RegistryUnavailableException("no connection to ZooKeeper at " + o.connectString() + (zk.getState().isAlive()
                            ? " within the " + (timeoutOption.equals("connectionTimeout") ? o.connectionTimeoutMs() : o.failoverTimeoutMs())
                            + " ms of option " + timeoutOption : " (the session ended: " + zk.getState() + ")"), null);
                }
                // bounded: a state change between the check and the wait has no event left to wake us
                TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
            }
        }
    }
}
