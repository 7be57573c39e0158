<?php
/*
 * Content operations on the test WordPress, run with the PHP CLI:
 *   WORDPRESS_CONFIG=fondstest php wp.php COMMAND < args.json   (JSON result on stdout)
 * It includes wp-load.php, so everything goes through WordPress's own API, as an
 * editor's actions in wp-admin would. Commands: setup, categories, upload, posts,
 * trash, theme, options.
 */

if (PHP_SAPI !== 'cli') {
    exit(1);
}
$_SERVER['HTTP_HOST'] = getenv('HTTP_HOST') ?: '127.0.0.1';
$_SERVER['REQUEST_METHOD'] = 'GET';
define('WP_ADMIN', false);
require '/usr/share/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/image.php';
require_once ABSPATH . 'wp-admin/includes/post.php';

$command = $argv[1] ?? '';
$args = json_decode(stream_get_contents(STDIN) ?: '{}', true);
wp_set_current_user(1);

function fail($message) {
    fwrite(STDERR, $message . "\n");
    exit(2);
}

function post_record($id) {
    $post = get_post($id);
    return array(
        'id' => $post->ID,
        'type' => $post->post_type,
        'slug' => $post->post_name,
        'title' => $post->post_title,
        'link' => get_permalink($post),
        'date' => $post->post_date,
        'modified' => $post->post_modified,
        'categories' => wp_get_post_categories($post->ID, array('fields' => 'names')),
    );
}

switch ($command) {
case 'setup':
    // A site as an editor leaves it: no sample content, pretty permalinks, the theme.
    foreach (get_posts(array('post_type' => array('post', 'page'), 'post_status' => 'any',
                             'numberposts' => -1)) as $post) {
        wp_delete_post($post->ID, true);
    }
    global $wp_rewrite;
    $wp_rewrite->set_permalink_structure($args['permalink']);
    update_option('posts_per_page', $args['posts_per_page']);
    update_option('timezone_string', 'Europe/Paris');
    update_option('date_format', 'j F Y');
    switch_theme($args['theme']);
    flush_rewrite_rules(false);
    $result = array('locale' => get_locale(), 'theme' => get_stylesheet(),
                    'version' => get_bloginfo('version'));
    break;
case 'categories':
    $result = array();
    foreach ($args['names'] as $name) {
        $term = wp_insert_term($name, 'category');
        if (is_wp_error($term)) {
            fail($term->get_error_message());
        }
        $made = get_term($term['term_id'], 'category');
        $result[] = array('id' => $made->term_id, 'name' => $made->name, 'slug' => $made->slug,
                          'link' => get_term_link($made));
    }
    break;
case 'upload':
    // The file goes where the media library puts it (uploads/YYYY/MM) and is attached.
    $result = array();
    foreach ($args['files'] as $file) {
        $bits = wp_upload_bits($file['name'], null, file_get_contents($file['path']),
                               $file['month']);
        if (!empty($bits['error'])) {
            fail($bits['error']);
        }
        $id = wp_insert_attachment(array(
            'post_title' => $file['title'], 'post_mime_type' => 'application/pdf',
            'post_status' => 'inherit', 'post_date' => $file['month_date'],
        ), $bits['file'], 0, true);
        if (is_wp_error($id)) {
            fail($id->get_error_message());
        }
        $result[] = array('id' => $id, 'url' => wp_get_attachment_url($id),
                          'file' => $bits['file'], 'name' => $file['name']);
    }
    break;
case 'posts':
    $result = array();
    $categories = array();
    foreach (get_categories(array('hide_empty' => false)) as $term) {
        $categories[$term->slug] = $term->term_id;
    }
    foreach ($args['posts'] as $post) {
        $id = wp_insert_post(array(
            'post_type' => $post['type'], 'post_status' => 'publish',
            'post_title' => $post['title'], 'post_content' => $post['content'],
            'post_date' => $post['date'], 'post_name' => $post['slug'] ?? '',
            'post_category' => array_map(fn($slug) => $categories[$slug], $post['categories']),
        ), true);
        if (is_wp_error($id)) {
            fail($id->get_error_message());
        }
        foreach ($post['attachments'] ?? array() as $attachment) {
            wp_update_post(array('ID' => $attachment, 'post_parent' => $id));
        }
        $result[] = post_record($id);
    }
    break;
case 'trash':
    $post = wp_trash_post($args['id']);
    if (!$post) {
        fail('cannot trash ' . $args['id']);
    }
    $result = array('id' => $args['id'], 'status' => get_post_status($args['id']));
    break;
case 'theme':
    switch_theme($args['theme']);
    $result = array('theme' => get_stylesheet());
    break;
case 'options':
    $result = array();
    foreach ($args['names'] as $name) {
        $result[$name] = get_option($name);
    }
    break;
default:
    fail("unknown command: $command");
}
echo json_encode($result, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
