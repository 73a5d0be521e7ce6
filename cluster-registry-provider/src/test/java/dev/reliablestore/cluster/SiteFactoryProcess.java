package dev.reliablestore.cluster;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A child JVM holding one site's store factory, for {@link ConfiguredZooKeeperSitesCrashTest}:
 * {@code <writes> <first n> <ids> key=value...} (the factory's options). It waits until its factory
 * ships to every other site, prints {@code ready}, then saves and deletes random entities of the
 * shared pool, printing {@code try <id> <n>} before each and {@code ack <id> <n>} once it returned;
 * after {@code writes} of them it prints {@code done} and goes on shipping until it is killed.
 */
final class SiteFactoryProcess {

    private SiteFactoryProcess() {
    }

    public static void main(String[] args) {
        int writes = Integer.parseInt(args[0]);
        int first = Integer.parseInt(args[1]);
        int ids = Integer.parseInt(args[2]);
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 3; i < args.length; i++) {
            options.put(args[i].substring(0, args[i].indexOf('=')), args[i].substring(args[i].indexOf('=') + 1));
        }
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        StoreFactory factory = Persistence.openFactory("cluster-registry", options);
        while (ClusterStoreAdmin.siteShipping(factory).stream().anyMatch(s -> !s.running())) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // a child has no Awaitility; the parent bounds the wait
        }
        out.println("ready");
        EntityStore<ConfiguredZooKeeperSitesCrashTest.Parcel> parcels = factory.store(ConfiguredZooKeeperSitesCrashTest.Parcel.class);
        String site = options.get("localSite");
        Random random = new Random();
        for (int n = first; n < first + writes; n++) {
            String id = "e" + random.nextInt(ids);
            boolean delete = random.nextInt(10) == 0;
            out.println("try " + id + " " + n + (delete ? " delete" : ""));
            if (delete) {
                parcels.delete(id);
            } else {
                parcels.save(id, new ConfiguredZooKeeperSitesCrashTest.Parcel(site, n));
            }
            out.println("ack " + id + " " + n + (delete ? " delete" : ""));
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(3));
        }
        out.println("done");
        LockSupport.park(); // shipping goes on until killed
    }
}
