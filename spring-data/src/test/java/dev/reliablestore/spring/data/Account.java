package dev.reliablestore.spring.data;

import org.springframework.data.annotation.Id;
import org.springframework.data.annotation.Version;

/** A mutable entity: the adapter writes the new version into it after a save. */
public class Account {

    @Id
    private String id;
    @Version
    private Long version;
    private String owner;
    private long balance;

    public Account() {
    }

    public Account(String id, String owner, long balance) {
        this.id = id;
        this.owner = owner;
        this.balance = balance;
    }

    public String getId() {
        return id;
    }

    public void setId(String id) {
        this.id = id;
    }

    public Long getVersion() {
        return version;
    }

    public void setVersion(Long version) {
        this.version = version;
    }

    public String getOwner() {
        return owner;
    }

    public void setOwner(String owner) {
        this.owner = owner;
    }

    public long getBalance() {
        return balance;
    }

    public void setBalance(long balance) {
        this.balance = balance;
    }
}
