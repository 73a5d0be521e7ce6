package dev.reliablestore.cluster.samples;

import com.fasterxml.jackson.databind.module.SimpleModule;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.codec.CodecMismatchException;
import dev.reliablestore.codec.EntityCodec;
import dev.reliablestore.codec.JacksonEntityCodec;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The "Codec" and "Zero-copy cached reads" sample of docs/cluster-registry-provider.md, in a package
 * of its own so that it uses public API only; CodecAndCacheSampleTest runs it and checks the page
 * holds it verbatim.
 */
public final class CodecAndCacheSample {

    /** Deeply immutable: values only, and the list copied into an unmodifiable one. */
    public record Invoice(BigDecimal total, List<String> terms) {
        public Invoice {
            terms = List.copyOf(terms);
        }
    }

    private CodecAndCacheSample() {
    }

    /** What the sample finds: whether the two hits shared one instance, and what another codec was told. */
    public static List<String> run(String registryUri, EntityCodec myBinaryCodec) {
        List<String> report = new ArrayList<>();
        // sample-start
        Map<String, String> options = Map.of(
                "clusterName", registryUri,
                "resourceGroupName", "ReliableStore-RG",
                "registryKeyPath", "Software\\ReliableStore\\Data",
                "enableLocalCache", "true"); // cachedReads: Auto (the default)
        EntityCodec codec = JacksonEntityCodec.withModules(new SimpleModule("app")); // your modules, or your own EntityCodec
        try (StoreFactory stores = Persistence.openFactory("cluster-registry", options, codec)) {
            EntityStore<Invoice> invoices = stores.store(Invoice.class); // records "jackson-json" for type Invoice
            invoices.save("INV-1", new Invoice(new BigDecimal("12.30"), List.of("net 30")));
            Invoice first = invoices.get("INV-1").orElseThrow().value(); // a cache hit: decoded once...
            Invoice again = invoices.get("INV-1").orElseThrow().value(); // ...then shared: again == first
            report.add("shared: " + (first == again));
        }
        try (StoreFactory stores = Persistence.openFactory("cluster-registry", options, myBinaryCodec)) {
            stores.store(Invoice.class); // refused, never misread
        } catch (CodecMismatchException e) {
            report.add("refused: written with " + e.storedCodecId() + ", opened with " + e.codecId());
        }
        // sample-end
        return report;
    }
}
