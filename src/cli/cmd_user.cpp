// dfsctl user list | show | create | passwd | delete: /api/v1/users.

#include <CLI/CLI.hpp>
#include <memory>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/errors.h"
#include "cli/prompt.h"

namespace dfs::cli {
namespace {

const std::vector<Column> kUserColumns = {
    {"NAME", "username"}, {"ROLE", "role"}, {"UID", "uid"}, {"CREATED", "created_at"}};

std::string user_path(const std::string& name) {
  return "/api/v1/users/" + encode_path_segment(name);
}

struct UserOptions {
  std::string name;
  std::string role;
  int64_t uid = -1;
  std::string password;
  CLI::Option* uid_flag = nullptr;
  CLI::Option* password_flag = nullptr;
};

std::string password_for(const UserOptions& o) {
  if (o.password_flag->count() > 0) return o.password;
  return read_new_password("New password for " + o.name + ": ");
}

}  // namespace

void add_user_commands(CLI::App& app, Context& ctx) {
  auto* user = app.add_subcommand("user", "Manage the users of the control plane");
  user->require_subcommand(1);

  user->add_subcommand("list", "List users")->callback([&ctx] {
    ctx.printer().list(ctx.client().call("GET", "/api/v1/users"), kUserColumns);
  });

  auto show = std::make_shared<UserOptions>();
  auto* sh = user->add_subcommand("show", "Show one user");
  sh->add_option("name", show->name, "user name")->required();
  sh->callback(
      [show, &ctx] { ctx.printer().object(ctx.client().call("GET", user_path(show->name))); });

  auto create = std::make_shared<UserOptions>();
  auto* cr = user->add_subcommand("create", "Create a user");
  cr->add_option("name", create->name, "user name ([a-z_][a-z0-9_.-]{0,31})")->required();
  cr->add_option("--role", create->role, "admin, operator or user")->required();
  create->uid_flag = cr->add_option("--uid", create->uid, "AUTH_SYS uid, for share access lists");
  create->password_flag = cr->add_option("--password", create->password,
                                         "password, 8 to 256 characters (asked when missing)");
  cr->callback([create, &ctx] {
    ApiClient& api = ctx.client();  // "not logged in" before asking for a password
    nlohmann::json body = {{"username", create->name}, {"role", create->role}};
    if (create->uid_flag->count() > 0) body["uid"] = create->uid;
    body["password"] = password_for(*create);
    ctx.printer().object(api.call("POST", "/api/v1/users", body));
  });

  auto pw = std::make_shared<UserOptions>();
  auto* pc = user->add_subcommand("passwd", "Change a user's password");
  pc->add_option("name", pw->name, "user name")->required();
  pw->password_flag =
      pc->add_option("--password", pw->password, "new password (asked when missing)");
  pc->callback([pw, &ctx] {
    ApiClient& api = ctx.client();  // "not logged in" before asking for a password
    api.call("PUT", user_path(pw->name) + "/password",
             nlohmann::json{{"password", password_for(*pw)}});
    ctx.printer().message("Password of " + pw->name + " changed");
  });

  auto del = std::make_shared<UserOptions>();
  auto* dl = user->add_subcommand("delete", "Delete a user");
  dl->add_option("name", del->name, "user name")->required();
  dl->callback([del, &ctx] {
    ctx.client().call("DELETE", user_path(del->name));
    ctx.printer().message("User " + del->name + " deleted");
  });
}

}  // namespace dfs::cli
