package dev.tandem.config;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.util.Set;

/**
 * One appliance. The control address carries the JGroups control plane; the admin address (by
 * default the control address) carries the status endpoint and the SSH shell; the public address (by
 * default the control address) is where clients reach its services: DNS, the proxy.
 */
public record Node(String name, String site, String controlAddress, String adminAddress, String publicAddress, Set<Role> roles) {

    public Node {
        roles = roles == null ? Set.of() : Set.copyOf(roles);
    }

    public String effectiveAdminAddress() {
        return adminAddress == null ? controlAddress : adminAddress;
    }

    public String effectivePublicAddress() {
        return publicAddress == null ? controlAddress : publicAddress;
    }

    @JsonIgnore
    public boolean isWitness() {
        return roles.contains(Role.WITNESS);
    }

    public String roleName() {
        return isWitness() ? "witness" : "services";
    }
}
