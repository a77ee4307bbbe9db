// Identity squashing over a real socket: AUTH_SYS credentials are the client's word, so a
// share maps root (uid 0, gid 0 and group 0) to its anonymous ids unless told not to, and
// all_squash maps every caller. The embedded default share squashes too; a configuration
// file sets each share's squashing, anonymous ids and allowed hosts.

#include <fstream>

#include "nfs4_test_util.h"
#include "server/config.h"

namespace dfs::testing {
namespace {

class SquashTest : public ServerTest {
 protected:
  // A client whose AUTH_SYS credentials carry `groups` as the supplementary group list.
  std::unique_ptr<NfsClient> client_as(uint32_t uid, uint32_t gid, std::vector<uint32_t> groups) {
    auto c = std::make_unique<NfsClient>("127.0.0.1", port(), uid, gid);
    c->rpc().set_auth_sys(uid, gid, std::move(groups));
    c->establish();
    return c;
  }
  // Owner and group of `fh` as the server reports them ("65534", "0", ...).
  static std::pair<std::string, std::string> owners(NfsClient& c, const Fh& fh) {
    Attrs a = get_attrs(c, fh, {FATTR4_OWNER, FATTR4_OWNER_GROUP});
    return {a.str(FATTR4_OWNER), a.str(FATTR4_OWNER_GROUP)};
  }
  static Fh create_file(NfsClient& c, const Fh& dir, const std::string& name) {
    auto o = c.open_or_throw(dir, name, OPEN4_SHARE_ACCESS_BOTH);
    c.close(o);
    return o.fh;
  }
  static nfsstat4 setattr(NfsClient& c, const Fh& fh, const Fattr& attrs) {
    return c.call(c.builder().op(OP_PUTFH, PutFhArgs{fh}).op(OP_SETATTR, SetattrArgs{{}, attrs}))
        .status;
  }
  static nfsstat4 chgrp(NfsClient& c, const Fh& fh, const std::string& group) {
    return setattr(c, fh, AttrBuilder().str(FATTR4_OWNER_GROUP, group).build());
  }
  // Starts the server with the configuration file `yaml` (as `dfs --config` reads it), on
  // fresh shares: what the share held under the earlier configuration (its root's owner, given
  // to the anonymous ids by a squashing start) is not this test's subject.
  void start_with_yaml(const std::string& yaml) {
    if (daemon_) daemon_->stop();
    daemon_.reset();
    std::filesystem::remove_all(data_dir_ + "/shares");
    std::string path = data_dir_ + "/dfs.yaml";
    std::ofstream(path) << yaml;
    server::Config config;
    server::load_config_file(path, config);
    start(config);
  }
};

TEST_F(SquashTest, DefaultShareSquashesRootToNobody) {
  auto root = client();  // uid 0, gid 0
  Fh exp = root->lookup_path("/export");
  // The empty export belongs to the anonymous user, so squashed root can still write there.
  EXPECT_EQ(owners(*root, exp), std::make_pair(std::string("65534"), std::string("65534")));
  Fh f = create_file(*root, exp, "made-by-root");
  EXPECT_EQ(owners(*root, f), std::make_pair(std::string("65534"), std::string("65534")));
  // Root's privileges are gone: it cannot give the file away.
  EXPECT_EQ(setattr(*root, f, AttrBuilder().str(FATTR4_OWNER, "0").build()), NFS4ERR_PERM);
}

TEST_F(SquashTest, RootSquashMapsUidGidAndGroupZeroIndependently) {
  auto root = client_as(0, 0, {0});
  Fh exp = root->lookup_path("/export");
  Fh f = create_file(*root, exp, "root-file");
  EXPECT_EQ(owners(*root, f), std::make_pair(std::string("65534"), std::string("65534")));
  // A directory everyone may create in.
  Fh pub;
  ASSERT_EQ(root->mkdir(exp, "pub", &pub), NFS4_OK);
  ASSERT_EQ(setattr(*root, pub, AttrBuilder().u32(FATTR4_MODE, 0777).build()), NFS4_OK);

  // A user who claims gid 0 and group 0: the uid stays, group 0 does not.
  auto user = client_as(1000, 0, {0, 100});
  Fh u = create_file(*user, pub, "user-file");
  EXPECT_EQ(owners(*user, u), std::make_pair(std::string("1000"), std::string("65534")));
  EXPECT_EQ(chgrp(*user, u, "0"), NFS4ERR_PERM) << "group 0 in the list was not squashed";
  // Its other groups are kept.
  EXPECT_EQ(chgrp(*user, u, "100"), NFS4_OK);

  // Root with another primary group keeps it, and the rest of its list (as knfsd does).
  auto root_staff = client_as(0, 50, {0, 100});
  Fh g = create_file(*root_staff, pub, "root-staff-file");
  EXPECT_EQ(owners(*root_staff, g), std::make_pair(std::string("65534"), std::string("50")));
  EXPECT_EQ(chgrp(*root_staff, g, "100"), NFS4_OK);
  EXPECT_EQ(chgrp(*root_staff, g, "0"), NFS4ERR_PERM);
}

TEST_F(SquashTest, AllSquashMapsEveryUserToTheShareAnonIds) {
  start_with_yaml(R"(
shares:
  - path: /export
    all_squash: true
    anon_uid: 1234
    anon_gid: 5678
)");
  auto user = client_as(1000, 1000, {10});
  Fh exp = user->lookup_path("/export");
  EXPECT_EQ(owners(*user, exp), std::make_pair(std::string("1234"), std::string("5678")));
  Fh f = create_file(*user, exp, "user-file");
  EXPECT_EQ(owners(*user, f), std::make_pair(std::string("1234"), std::string("5678")));
  // The group list is dropped with the rest.
  EXPECT_EQ(chgrp(*user, f, "10"), NFS4ERR_PERM);
  auto root = client();
  Fh r = create_file(*root, exp, "root-file");
  EXPECT_EQ(owners(*root, r), std::make_pair(std::string("1234"), std::string("5678")));
}

TEST_F(SquashTest, ConfigFileCanLetClientRootBeRoot) {
  start_with_yaml(R"(
shares:
  - path: /export
    root_squash: false
)");
  auto root = client();
  Fh exp = root->lookup_path("/export");
  EXPECT_EQ(owners(*root, exp), std::make_pair(std::string("0"), std::string("0")));
  Fh f = create_file(*root, exp, "root-file");
  EXPECT_EQ(owners(*root, f), std::make_pair(std::string("0"), std::string("0")));
  EXPECT_EQ(setattr(*root, f, AttrBuilder().str(FATTR4_OWNER, "42").build()), NFS4_OK);
}

TEST_F(SquashTest, ConfigFileAllowedHostsLimitWhoMayMount) {
  start_with_yaml(R"(
shares:
  - path: /export
    allowed_hosts: [10.0.0.0/8]
  - path: /local
    allowed_hosts: [127.0.0.1]
)");
  auto c = client();
  auto r = c->call(c->builder().op(OP_PUTROOTFH).op(OP_LOOKUP, ComponentArgs{"export"}));
  EXPECT_EQ(r.status, NFS4ERR_ACCESS);
  EXPECT_NO_THROW(c->lookup_path("/local"));
}

}  // namespace
}  // namespace dfs::testing
