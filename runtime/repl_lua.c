/* repl_lua.c: module "aws.core.repl", the Lua face of runtime/repl.c and of the
 * interrupt flag (runtime/interrupt.c).
 *
 *   repl.editor{complete = fn} -> editor (nil, message when stdin is not a terminal)
 *     editor:read(prompt)      -> line | nil, "eof" | nil, "interrupted"
 *     editor:add_history(entry)
 *     editor:load_history(path, max_entries) -> n | nil, message
 *     editor:close()           (also __gc and __close; idempotent)
 *   repl.append_history(path, entry) -> true | nil, message
 *   repl.columns()             terminal width
 *   repl.interrupt_pending(), repl.interrupt_clear(), repl.interrupt_request()
 *
 * The completion function is called as fn(text_left_of_cursor) and returns
 * insert_text, listing, delete_count (any may be nil): delete_count characters left of
 * the cursor are removed, then insert_text is inserted, then listing is shown. It runs under
 * lua_pcall from inside libedit, so an error in it is shown as a listing and never unwinds through
 * C frames. This file decides nothing about what to complete or what to keep in the history. */
#include <lauxlib.h>
#include <lua.h>

#include "interrupt.h"
#include "repl.h"

int luaopen_aws_core_repl(lua_State *L);

#define S_EDITOR_MT "aws.repl.Editor"

typedef struct s_editor {
    dt_repl *r;
    lua_State *L; /* the state running editor:read, for the completion callback */
    int self;     /* stack index of the editor userdata in that call */
} s_editor;

static s_editor *s_check(lua_State *L) {
    s_editor *e = luaL_checkudata(L, 1, S_EDITOR_MT);
    if (!e->r) luaL_error(L, "aws.repl.Editor: editor is closed");
    return e;
}

static int s_release(lua_State *L) {
    s_editor *e = luaL_checkudata(L, 1, S_EDITOR_MT);
    dt_repl_free(e->r);
    e->r = NULL;
    return 0;
}

/* Runs under lua_pcall: (editor lightuserdata, text lightuserdata, length, fn). */
static int s_complete_protected(lua_State *L) {
    s_editor *e = lua_touserdata(L, 1);
    const char *before = lua_touserdata(L, 2);
    size_t len = (size_t)lua_tointeger(L, 3);
    lua_pushvalue(L, 4);
    lua_pushlstring(L, before, len);
    lua_call(L, 1, 3);
    /* The strings stay on the stack (anchored) while libedit copies them. */
    if (lua_isinteger(L, -1)) dt_repl_delete(e->r, (int)lua_tointeger(L, -1));
    if (lua_type(L, -3) == LUA_TSTRING) dt_repl_insert(e->r, lua_tostring(L, -3));
    if (lua_type(L, -2) == LUA_TSTRING) dt_repl_show(e->r, lua_tostring(L, -2));
    return 0;
}

static void s_complete(dt_repl *r, void *ud, const char *before, size_t len) {
    s_editor *e = ud;
    lua_State *L = e->L;
    if (!L || !lua_checkstack(L, 8)) return;
    int top = lua_gettop(L);
    lua_pushcfunction(L, s_complete_protected);
    lua_pushlightuserdata(L, e);
    lua_pushlightuserdata(L, (void *)before);
    lua_pushinteger(L, (lua_Integer)len);
    if (lua_getiuservalue(L, e->self, 1) != LUA_TFUNCTION) {
        lua_settop(L, top);
        return;
    }
    if (lua_pcall(L, 4, 0, 0) != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        lua_pushfstring(L, "(completion failed: %s)", msg ? msg : "error object is not a string");
        dt_repl_show(r, lua_tostring(L, -1));
    }
    lua_settop(L, top);
}

static int s_editor_new(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "complete");
    if (!lua_isnil(L, -1) && !lua_isfunction(L, -1))
        return luaL_error(L, "aws.core.repl.editor: complete: expected a function, got %s",
                          luaL_typename(L, -1));
    s_editor *e = lua_newuserdatauv(L, sizeof *e, 1);
    e->r = NULL;
    e->L = NULL;
    e->self = 0;
    luaL_setmetatable(L, S_EDITOR_MT);
    lua_pushvalue(L, -2);
    lua_setiuservalue(L, -2, 1);
    dt_repl_error err;
    e->r = dt_repl_new("detlua", &err);
    if (!e->r) {
        lua_pushnil(L);
        lua_pushstring(L, err.message);
        return 2;
    }
    dt_repl_set_completer(e->r, s_complete, e);
    return 1;
}

static int s_read(lua_State *L) {
    s_editor *e = s_check(L);
    const char *prompt = luaL_optstring(L, 2, "> ");
    lua_settop(L, 2);
    const char *line;
    size_t len;
    dt_repl_error err;
    e->L = L;
    e->self = 1;
    int st = dt_repl_read(e->r, prompt, &line, &len, &err);
    e->L = NULL;
    switch (st) {
    case DT_REPL_LINE:
        lua_pushlstring(L, line, len);
        return 1;
    case DT_REPL_EOF:
        lua_pushnil(L);
        lua_pushliteral(L, "eof");
        return 2;
    case DT_REPL_INTERRUPTED:
        lua_pushnil(L);
        lua_pushliteral(L, "interrupted");
        return 2;
    default:
        return luaL_error(L, "aws.repl.Editor:read: %s", err.message);
    }
}

static int s_add_history(lua_State *L) {
    s_editor *e = s_check(L);
    dt_repl_history_add(e->r, luaL_checkstring(L, 2));
    return 0;
}

static int s_load_history(lua_State *L) {
    s_editor *e = s_check(L);
    const char *path = luaL_checkstring(L, 2);
    lua_Integer max = luaL_optinteger(L, 3, 1000);
    luaL_argcheck(L, max >= 0 && max <= 1000000, 3, "max_entries must be between 0 and 1000000");
    dt_repl_error err;
    int n = dt_repl_history_load(e->r, path, (size_t)max, &err);
    if (n < 0) {
        lua_pushnil(L);
        lua_pushstring(L, err.message);
        return 2;
    }
    lua_pushinteger(L, n);
    return 1;
}

static int s_tostring(lua_State *L) {
    s_editor *e = luaL_checkudata(L, 1, S_EDITOR_MT);
    lua_pushstring(L, e->r ? "aws.repl.Editor" : "aws.repl.Editor (closed)");
    return 1;
}

static int s_append_history(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    const char *entry = luaL_checkstring(L, 2);
    dt_repl_error err;
    if (dt_repl_history_append(path, entry, &err) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, err.message);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int s_columns(lua_State *L) {
    lua_pushinteger(L, dt_repl_columns());
    return 1;
}

static int s_interrupt_pending(lua_State *L) {
    lua_pushboolean(L, dt_interrupt_pending());
    return 1;
}

static int s_interrupt_clear(lua_State *L) {
    (void)L;
    dt_interrupt_clear();
    return 0;
}

static int s_interrupt_request(lua_State *L) {
    (void)L;
    dt_interrupt_request();
    return 0;
}

int luaopen_aws_core_repl(lua_State *L) {
    static const luaL_Reg methods[] = {{"read", s_read},
                                       {"add_history", s_add_history},
                                       {"load_history", s_load_history},
                                       {"close", s_release},
                                       {NULL, NULL}};
    static const luaL_Reg meta[] = {
        {"__gc", s_release}, {"__close", s_release}, {"__tostring", s_tostring}, {NULL, NULL}};
    static const luaL_Reg fns[] = {{"editor", s_editor_new},
                                   {"append_history", s_append_history},
                                   {"columns", s_columns},
                                   {"interrupt_pending", s_interrupt_pending},
                                   {"interrupt_clear", s_interrupt_clear},
                                   {"interrupt_request", s_interrupt_request},
                                   {NULL, NULL}};
    if (luaL_newmetatable(L, S_EDITOR_MT)) {
        luaL_setfuncs(L, meta, 0);
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    luaL_newlib(L, fns);
    return 1;
}
