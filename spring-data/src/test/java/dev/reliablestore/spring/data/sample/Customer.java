package dev.reliablestore.spring.data.sample;

import org.springframework.data.annotation.Id;
import org.springframework.data.annotation.Version;

/** The entity of docs/spring.md (RepositorySampleTest checks the page shows it). */
public class Customer {

    @Id private String id;
    @Version private Long version; // the store's version, set by every save and read
    private String tier;

    public Customer() {}

    public Customer(String id, String tier) { this.id = id; this.tier = tier; }

    public String getId() { return id; }
    public void setId(String id) { this.id = id; }
    public Long getVersion() { return version; }
    public void setVersion(Long version) { this.version = version; }
    public String getTier() { return tier; }
    public void setTier(String tier) { this.tier = tier; }
}
